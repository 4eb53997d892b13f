package org.accord.app.devices

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.update
import org.accord.app.Words
import org.accord.app.core.AccordCore
import org.accord.app.core.DeviceSettings
import org.accord.app.core.ScreenHolder
import org.accord.ffi.NetworkMode
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
    /** How this device reaches the others. */
    val network: NetworkMode = NetworkMode.PRODUCTION,
    /** Whether the node is restarting with a new network mode. */
    val switchingNetwork: Boolean = false,
    /** Whether a sync asked for on this screen is running. */
    val syncing: Boolean = false,
    /** What the last sync asked for on this screen did, in words. */
    val syncOutcome: String? = null,
    /** Where the last export went, in words. */
    val exportedTo: String? = null,
    val error: String? = null,
)

/**
 * State holder of devices and settings. [restart] starts the node again with a new network
 * mode (the app then opens this screen over the new node).
 */
class DevicesHolder(
    core: AccordCore,
    scope: CoroutineScope,
    private val settings: DeviceSettings,
    private val restart: suspend (NetworkMode) -> Unit,
    /** Deletes this device's copy and keys (the app returns to onboarding). */
    private val deleteThisCopy: suspend () -> Unit = {},
    private val syncTimeoutMs: Long = 10_000,
) : ScreenHolder<DevicesState>(core, scope, DevicesState(network = settings.network())) {
    init {
        start()
    }

    override fun failed(state: DevicesState, message: String) =
        state.copy(loading = false, switchingNetwork = false, error = message)

    /** Reads the members and the sync status again (keeps a secret being shown). */
    override suspend fun refresh() = merge {
        val info = core.info()
        val peers = core.syncStatus().associate { it.device to it.hasAllMyChanges }
        return@merge { current: DevicesState ->
            current.copy(loading = false, info = info, hasAllMyChanges = peers, error = null)
        }
    }

    /**
     * Syncs with the couple's other devices now and says which have everything and which could
     * not be reached (what was written stays here and goes when they can be reached).
     */
    fun syncNow() {
        mutable.update { it.copy(syncing = true, syncOutcome = null) }
        act {
            try {
                val report = core.syncNow(syncTimeoutMs)
                val names = (state.value.info ?: core.info()).devices.associate { it.id to it.name.ifBlank { "a device" } }
                mutable.update { it.copy(syncOutcome = Words.syncOutcome(report, names)) }
            } finally {
                mutable.update { it.copy(syncing = false) }
            }
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

    /** Keeps [mode] for this device and restarts the node with it. */
    fun setNetwork(mode: NetworkMode) {
        if (mode == state.value.network) return
        mutable.update { it.copy(switchingNetwork = true) }
        act {
            settings.setNetwork(mode)
            restart(mode)
        }
    }

    /** Exports every agreement as Markdown to a file the platform chooses, and says where. */
    fun export() = act {
        val where = settings.saveExport("accord-agreements-${java.time.LocalDate.now()}.md", core.exportMarkdown())
        mutable.update { it.copy(exportedTo = where) }
    }

    /** The last step of leaving: this device's copy and keys are deleted (the screen asks first). */
    fun leaveAndDelete() = act { deleteThisCopy() }

    /** Hides the secret once the partner wrote it down. */
    fun secretWrittenDown() = mutable.update { it.copy(newRecoverySecret = null) }
}
