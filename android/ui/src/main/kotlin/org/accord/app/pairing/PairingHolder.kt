package org.accord.app.pairing

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import org.accord.app.core.AccordCore
import org.accord.app.core.PairingRequest
import org.accord.app.core.ScreenHolder
import org.accord.core.DeviceId
import org.accord.core.InviteRole

/** The pairing screen: this device's invitation, and who joined with it. */
data class PairingState(
    val loading: Boolean = true,
    /** The ticket as text (also shown as a QR code); it works once, for 10 minutes. */
    val ticket: String? = null,
    /** Who joined while the screen was open ("Sam joined on Sam's phone."), then no ticket. */
    val joined: String? = null,
    /** A device of mine asking to join, with the code to compare (my-device tickets). */
    val request: PairingRequest? = null,
    val error: String? = null,
)

/**
 * State holder of pairing: makes a ticket at once (a new one on request) and says when a
 * device joined the space while the screen is open.
 */
class PairingHolder(
    core: AccordCore,
    scope: CoroutineScope,
    /** Whom the ticket invites (see [AccordCore.invite]). */
    val role: InviteRole = InviteRole.PARTNER,
) : ScreenHolder<PairingState>(core, scope, PairingState()) {
    /** The devices of the space when the screen first read it. */
    private var known: Set<DeviceId>? = null

    init {
        scope.launch { core.pairingRequests().collect { r -> mutable.update { it.copy(request = r) } } }
        newTicket()
        start()
    }

    /** Answers the request: [sameCode] when the new device shows the same code. */
    fun confirm(sameCode: Boolean) {
        val request = state.value.request ?: return
        mutable.update { it.copy(request = null) }
        act { core.confirmPairing(request.device, sameCode) }
    }

    override fun failed(state: PairingState, message: String) = state.copy(loading = false, error = message)

    override suspend fun refresh() = merge {
        val info = core.info()
        val devices = info.devices.filter { !it.removed }
        val before = known ?: devices.map { it.id }.toSet().also { known = it }
        val arrived = devices.firstOrNull { it.id !in before }
        return@merge { current: PairingState ->
            if (arrived == null) {
                current
            } else {
                val who = info.partners.firstOrNull { it.id == arrived.partner }?.name ?: "Your partner"
                current.copy(joined = "$who joined on ${arrived.name.ifBlank { "a new device" }}.", ticket = null)
            }
        }
    }

    /** Makes a new ticket (the old one still works until it is used or expires). */
    fun newTicket() = act {
        val ticket = core.invite(role)
        mutable.update { it.copy(loading = false, ticket = ticket, error = null) }
    }
}
