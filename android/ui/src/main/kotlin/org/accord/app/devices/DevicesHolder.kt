package org.accord.app.devices

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.update
import org.accord.app.core.AccordCore
import org.accord.app.core.ScreenHolder
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

/** State holder of devices and settings. */
class DevicesHolder(core: AccordCore, scope: CoroutineScope) :
    ScreenHolder<DevicesState>(core, scope, DevicesState()) {
    init {
        start()
    }

    override fun failed(state: DevicesState, message: String) = state.copy(loading = false, error = message)

    /** Reads the members and the sync status again (keeps a secret being shown). */
    override suspend fun refresh() = merge {
        val info = core.info()
        val peers = core.syncStatus().associate { it.device to it.hasAllMyChanges }
        return@merge { current: DevicesState ->
            current.copy(loading = false, info = info, hasAllMyChanges = peers, error = null)
        }
    }

    /** Unpairs one of my own devices (a lost phone). */
    fun unpair(device: DeviceId) = act { core.unpair(device) }

    /** Makes a new recovery secret and shows it once. */
    fun newRecoverySecret() = act {
        val secret = core.setUpRecovery()
        mutable.update { it.copy(newRecoverySecret = secret) }
    }

    /** Ends the pairing with the other partner (the screen asks first: it cannot be undone). */
    fun endPairing() = act { core.endPairing() }

    /** Hides the secret once the partner wrote it down. */
    fun secretWrittenDown() = mutable.update { it.copy(newRecoverySecret = null) }
}
