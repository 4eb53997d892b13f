package org.accord.desktop

import androidx.compose.ui.unit.dp
import androidx.compose.ui.window.Window
import androidx.compose.ui.window.application
import androidx.compose.ui.window.rememberWindowState
import kotlinx.coroutines.runBlocking
import org.accord.app.AccordApp
import org.accord.app.core.RustCore
import org.accord.app.core.RustSpaces
import org.accord.ffi.AccordNode
import org.accord.ffi.NetworkMode
import java.io.File
import java.time.ZoneId
import java.util.concurrent.atomic.AtomicReference

/** Where this desktop device keeps its copy unless `--data DIR` says otherwise. */
private fun defaultDataDir(): File {
    val base = System.getenv("XDG_DATA_HOME")?.let(::File)
        ?: File(System.getProperty("user.home"), ".local/share")
    return File(base, "accord-desktop")
}

/** Whether [dir] holds a space already. */
private fun holdsSpace(dir: File) =
    File(dir, "changes.log").exists() || File(dir, "snapshot.bin").exists()

/**
 * The desktop app: one node per process over the data directory (`--data DIR`), the same
 * screens as the Android app. `--network local` keeps it on the LAN, `--network relay-only`
 * never shows this computer's address to the partner, `--network anywhere` is the default (the
 * choice is kept, as when made in settings); `--dark` for the dark theme.
 */
fun main(args: Array<String>) {
    fun option(name: String) = args.indexOf(name).takeIf { it >= 0 }?.let { args.getOrNull(it + 1) }
    val dir = option("--data")?.let(::File) ?: defaultDataDir()
    val settings = DesktopSettings(dir, DesktopSettings.defaultExportDir())
    when (option("--network")) {
        "anywhere" -> settings.setNetwork(NetworkMode.PRODUCTION)
        "local" -> settings.setNetwork(NetworkMode.LOCAL)
        "relay-only" -> settings.setNetwork(NetworkMode.RELAY_ONLY)
        null -> {}
        else -> error("--network is anywhere, local or relay-only")
    }
    val network = settings.network()
    val dark = "--dark" in args
    val running = AtomicReference<RustCore?>()
    if (holdsSpace(dir)) {
        val node = runBlocking { AccordNode.open(dir.path, network) }
        node.keepConnected()
        running.set(RustCore(node))
    }
    val spaces = RustSpaces(dir.path, network, "${System.getProperty("user.name")}'s computer")
    application {
        Window(
            onCloseRequest = {
                running.get()?.let { core -> runBlocking { core.node.shutdown() } }
                exitApplication()
            },
            title = "Accord",
            state = rememberWindowState(width = 480.dp, height = 820.dp),
        ) {
            AccordApp(
                start = running.get(),
                spaces = spaces,
                defaultTimeZone = ZoneId.systemDefault().id,
                settings = settings,
                dark = dark,
                onSpace = { core -> running.set(core as RustCore) },
            )
        }
    }
}
