package org.accord.desktop

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import org.accord.app.core.DeviceSettings
import org.accord.ffi.NetworkMode
import java.io.File
import java.util.Properties

/**
 * The desktop's [DeviceSettings]: the network mode in `desktop-settings.properties` beside the
 * space's files in [dataDir], exports as files in [exportDir] (never overwriting one).
 */
class DesktopSettings(private val dataDir: File, private val exportDir: File) : DeviceSettings {
    private val file get() = File(dataDir, "desktop-settings.properties")

    override fun network(): NetworkMode {
        val saved = read().getProperty("network") ?: return NetworkMode.PRODUCTION
        return NetworkMode.entries.firstOrNull { it.name == saved } ?: NetworkMode.PRODUCTION
    }

    override fun setNetwork(mode: NetworkMode) {
        val props = read()
        props.setProperty("network", mode.name)
        dataDir.mkdirs()
        val partial = File(dataDir, "desktop-settings.properties.partial")
        partial.outputStream().use { out ->
            props.store(out, "Accord desktop: this computer's settings")
            out.fd.sync()
        }
        if (!partial.renameTo(file)) error("could not save the settings in $dataDir")
    }

    override suspend fun saveExport(fileName: String, markdown: String): String = withContext(Dispatchers.IO) {
        exportDir.mkdirs()
        val base = fileName.removeSuffix(".md")
        val target = generateSequence(1) { it + 1 }
            .map { n -> File(exportDir, if (n == 1) "$base.md" else "$base ($n).md") }
            .first { !it.exists() }
        target.writeText(markdown)
        target.path
    }

    private fun read(): Properties = Properties().apply {
        if (file.exists()) file.inputStream().use { load(it) }
    }

    companion object {
        /** Where exports go unless told otherwise: `~/Documents` when it exists, else home. */
        fun defaultExportDir(): File {
            val home = File(System.getProperty("user.home"))
            return File(home, "Documents").takeIf { it.isDirectory } ?: home
        }
    }
}
