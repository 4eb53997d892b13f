package org.accord.android

import android.content.ContentValues
import android.content.Context
import android.os.Build
import android.os.Environment
import android.provider.MediaStore
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import org.accord.app.core.DeviceSettings
import org.accord.ffi.NetworkMode
import java.io.File

/** The phone's [DeviceSettings]: the network mode in private preferences, exports to Downloads. */
class AndroidSettings(private val context: Context) : DeviceSettings {
    private val prefs get() = context.getSharedPreferences("device", Context.MODE_PRIVATE)

    override fun network(): NetworkMode =
        NetworkMode.entries.firstOrNull { it.name == prefs.getString("network", null) } ?: NetworkMode.PRODUCTION

    override fun setNetwork(mode: NetworkMode) {
        prefs.edit().putString("network", mode.name).commit()
    }

    override suspend fun saveExport(fileName: String, markdown: String): String = withContext(Dispatchers.IO) {
        if (Build.VERSION.SDK_INT >= 29) {
            val values = ContentValues().apply {
                put(MediaStore.Downloads.DISPLAY_NAME, fileName)
                put(MediaStore.Downloads.MIME_TYPE, "text/markdown")
            }
            val resolver = context.contentResolver
            val uri = resolver.insert(MediaStore.Downloads.EXTERNAL_CONTENT_URI, values)
                ?: error("the export could not be saved in Downloads")
            resolver.openOutputStream(uri)?.use { it.write(markdown.toByteArray()) }
                ?: error("the export could not be written")
            "Downloads/$fileName"
        } else {
            val dir = context.getExternalFilesDir(Environment.DIRECTORY_DOCUMENTS) ?: context.filesDir
            File(dir, fileName).also { it.writeText(markdown) }.path
        }
    }
}
