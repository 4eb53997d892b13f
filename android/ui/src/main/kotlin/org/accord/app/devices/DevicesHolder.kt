package org.accord.app.devices

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import org.accord.app.core.AccordCore
import org.accord.core.DeviceId
import org.accord.core.SpaceInfo

/** The devices and settings screen. */
data class DevicesState(
    val loading: Boolean = true,
    val info: SpaceInfo? = null,
    /** Per other device: whether it has all of this device's changes (never when it was seen). */
    val hasAllMyChanges: Map<DeviceId, Boolean> = emptyMap(),
    /** A new recovery secret, shown once after it was made (never stored by the app). */
    val newRecoverySecret: String? = null,
    val error: String? = null,
)

/** State holder of devices and settings, refreshed on every change of the space. */
class DevicesHolder(private val core: AccordCore, private val scope: CoroutineScope) {
    private val mutable = MutableStateFlow(DevicesState())

    /** What the screen shows. */
    val state: StateFlow<DevicesState> = mutable.asStateFlow()

    init {
        scope.launch {
            refresh()
            core.changes().collect { refresh() }
        }
    }

    /** Reads the members and the sync status again (keeps a secret being shown). */
    suspend fun refresh() {
        try {
            val info = core.info()
            val peers = core.syncStatus().associate { it.device to it.hasAllMyChanges }
            mutable.update { it.copy(loading = false, info = info, hasAllMyChanges = peers, error = null) }
        } catch (e: Exception) {
            mutable.update { it.copy(loading = false, error = e.message ?: e.toString()) }
        }
    }

    /** Unpairs one of my own devices (a lost phone). */
    fun unpair(device: DeviceId) = act { core.unpair(device) }

    /** Makes a new recovery secret and shows it once. */
    fun newRecoverySecret() {
        scope.launch {
            try {
                val secret = core.setUpRecovery()
                mutable.update { it.copy(newRecoverySecret = secret, error = null) }
                refresh()
            } catch (e: Exception) {
                mutable.update { it.copy(error = e.message ?: e.toString()) }
            }
        }
    }

    /** Ends the pairing with the other partner (the screen asks first: it cannot be undone). */
    fun endPairing() = act { core.endPairing() }

    /** Hides the secret once the partner wrote it down. */
    fun secretWrittenDown() = mutable.update { it.copy(newRecoverySecret = null) }

    private fun act(call: suspend () -> Unit) {
        scope.launch {
            try {
                call()
                refresh()
            } catch (e: Exception) {
                mutable.update { it.copy(error = e.message ?: e.toString()) }
            }
        }
    }
}
