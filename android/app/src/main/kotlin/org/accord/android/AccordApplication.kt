package org.accord.android

import android.app.Application
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import org.accord.app.background.SpaceHolder
import org.accord.ffi.AccordLocalSpace
import org.accord.ffi.AccordNode
import java.io.File

/**
 * The process: where the space lives and its one holder. Nothing opens the space here: the
 * activity opens the node when it starts, background work opens the local space for itself.
 */
class AccordApplication : Application() {
    /** This device's copy: in the no-backup folder, which Auto Backup never copies. */
    val dataDir: File get() = File(noBackupFilesDir, "space")

    /** Work that outlives a screen (closing the node after onStop). */
    val applicationScope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    /** This device's own settings (network mode) and where exports go. */
    val settings by lazy { AndroidSettings(this) }

    /** The one holder of the space in this process. */
    val holder by lazy {
        SpaceHolder(
            openNode = {
                AccordNode.open(dataDir.path, settings.network()).also { it.keepConnected() }
            },
            closeNode = { node ->
                runCatching { node.space().flush() }
                node.shutdown()
            },
            openLocal = { AccordLocalSpace.open(dataDir.path) },
            closeLocal = { it.shutdown() },
        )
    }

    /** Whether this device has a space yet. */
    fun holdsSpace() = File(dataDir, "changes.log").exists() || File(dataDir, "snapshot.bin").exists()

    override fun onCreate() {
        super.onCreate()
        Notifications.createChannels(this)
        SyncWorker.schedule(this)
    }
}
