package org.accord.app.onboarding

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import org.accord.app.core.AccordCore
import org.accord.app.core.SpaceFactory

/** The onboarding screen. */
data class OnboardingState(
    /** A create or join is under way (the buttons wait). */
    val busy: Boolean = false,
    /** The code to compare with my other device before joining with its my-device ticket. */
    val confirmationCode: String? = null,
    /** The recovery secret made at setup, shown once before the app goes on (never stored). */
    val recoverySecret: String? = null,
    /** The core's message for the last attempt that failed. */
    val error: String? = null,
)

/**
 * State holder of onboarding: create a space, join the partner's with a ticket, join as another
 * device of mine (comparing a code), or come back with the recovery secret. A partner's first
 * device makes its recovery secret at once and shows it; [onReady] gets the space after that.
 */
class OnboardingHolder(
    private val spaces: SpaceFactory,
    private val scope: CoroutineScope,
    private val onReady: (AccordCore) -> Unit,
) {
    private val mutable = MutableStateFlow(OnboardingState())
    private var made: AccordCore? = null

    /** What the screen shows. */
    val state: StateFlow<OnboardingState> = mutable.asStateFlow()

    /** Creates a space with you as its first partner. */
    fun create(name: String, timeZone: String) =
        attempt(withSecret = true) { spaces.create(name.trim(), timeZone.trim()) }

    /** Joins with a ticket: the partner's (a new secret is made), or one of mine after [showCode]. */
    fun join(ticket: String, name: String, timeZone: String) {
        val mine = mutable.value.confirmationCode != null
        attempt(withSecret = !mine) { spaces.join(ticket.trim(), name.trim(), timeZone.trim()) }
    }

    /** Comes back as yourself after losing every device: your partner's ticket and your secret. */
    fun comeBack(ticket: String, recoverySecret: String) =
        attempt(withSecret = false) { spaces.comeBack(ticket.trim(), recoverySecret) }

    /** Shows the code for a my-device ticket; the other device confirms it shows the same. */
    fun showCode(ticket: String) {
        if (ticket.isBlank()) {
            mutable.update { it.copy(error = "Paste the ticket from your other device first.") }
            return
        }
        scope.launch {
            try {
                val code = spaces.confirmationCode(ticket.trim())
                mutable.update { it.copy(confirmationCode = code, error = null) }
            } catch (e: Exception) {
                mutable.update { it.copy(error = e.message ?: e.toString()) }
            }
        }
    }

    /** The secret is written down: the app goes on to the space. */
    fun secretWrittenDown() {
        mutable.update { it.copy(recoverySecret = null) }
        made?.let(onReady)
    }

    private fun attempt(withSecret: Boolean, make: suspend () -> AccordCore) {
        if (mutable.value.busy) return
        mutable.update { it.copy(busy = true, error = null) }
        scope.launch {
            try {
                val core = make()
                made = core
                val secret = if (withSecret) core.setUpRecovery() else null
                mutable.value = OnboardingState(recoverySecret = secret)
                if (secret == null) onReady(core)
            } catch (e: Exception) {
                mutable.update { it.copy(busy = false, error = e.message ?: e.toString()) }
            }
        }
    }
}
