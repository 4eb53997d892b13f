package org.accord.app.pairing

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch
import org.accord.app.core.AccordCore
import org.accord.core.InviteRole

/** The pairing screen: this device's invitation for the partner. */
data class PairingState(
    val loading: Boolean = true,
    /** The ticket as text (also shown as a QR code); it works once, for 10 minutes. */
    val ticket: String? = null,
    val error: String? = null,
)

/** State holder of pairing: makes a ticket for the partner at once, a new one on request. */
class PairingHolder(
    private val core: AccordCore,
    private val scope: CoroutineScope,
    /** Whom the ticket invites (see [AccordCore.invite]). */
    val role: InviteRole = InviteRole.PARTNER,
) {
    private val mutable = MutableStateFlow(PairingState())

    /** What the screen shows. */
    val state: StateFlow<PairingState> = mutable.asStateFlow()

    init {
        newTicket()
    }

    /** Makes a new ticket (the old one still works until it is used or expires). */
    fun newTicket() {
        scope.launch {
            mutable.value = try {
                PairingState(loading = false, ticket = core.invite(role))
            } catch (e: Exception) {
                PairingState(loading = false, error = e.message ?: e.toString())
            }
        }
    }
}
