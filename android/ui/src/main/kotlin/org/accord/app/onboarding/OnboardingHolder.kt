package org.accord.app.onboarding

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch
import org.accord.app.core.AccordCore
import org.accord.app.core.SpaceFactory

/** The onboarding screen. */
data class OnboardingState(
    /** A create or join is under way (the buttons wait). */
    val busy: Boolean = false,
    /** The core's message for the last attempt that failed. */
    val error: String? = null,
)

/** State holder of onboarding: create a space, or join one with a ticket; [onReady] gets it. */
class OnboardingHolder(
    private val spaces: SpaceFactory,
    private val scope: CoroutineScope,
    private val onReady: (AccordCore) -> Unit,
) {
    private val mutable = MutableStateFlow(OnboardingState())

    /** What the screen shows. */
    val state: StateFlow<OnboardingState> = mutable.asStateFlow()

    /** Creates a space with you as its first partner. */
    fun create(name: String, timeZone: String) = attempt { spaces.create(name.trim(), timeZone.trim()) }

    /** Joins the partner's space with their ticket (pasted or scanned). */
    fun join(ticket: String, name: String, timeZone: String) =
        attempt { spaces.join(ticket.trim(), name.trim(), timeZone.trim()) }

    /** Comes back as yourself after losing every device: your partner's ticket and your secret. */
    fun comeBack(ticket: String, recoverySecret: String) =
        attempt { spaces.comeBack(ticket.trim(), recoverySecret) }

    private fun attempt(make: suspend () -> AccordCore) {
        if (mutable.value.busy) return
        mutable.value = OnboardingState(busy = true)
        scope.launch {
            try {
                val core = make()
                mutable.value = OnboardingState()
                onReady(core)
            } catch (e: Exception) {
                mutable.value = OnboardingState(error = e.message ?: e.toString())
            }
        }
    }
}
