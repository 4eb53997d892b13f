package org.accord.app.core

import org.accord.ffi.NetworkMode

/**
 * This device's own settings and files, which the platform keeps (never the shared space):
 * how it reaches the couple's other devices, and where an export goes.
 */
interface DeviceSettings {
    /** How this device reaches the couple's other devices. */
    fun network(): NetworkMode

    /** Keeps [mode] for every later start of the node. */
    fun setNetwork(mode: NetworkMode)

    /** Saves an export of the agreements named [fileName]; returns where it went, in words. */
    suspend fun saveExport(fileName: String, markdown: String): String
}
