package org.accord.app.core

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch

/**
 * What every screen's state holder shares: an immutable state as a [StateFlow], read again on
 * every change of the space while [scope] lives, and actions whose failure becomes the core's
 * message in the state (never a crash). Subclasses call [start] at the end of their `init`.
 */
abstract class ScreenHolder<S>(
    protected val core: AccordCore,
    protected val scope: CoroutineScope,
    initial: S,
) {
    protected val mutable = MutableStateFlow(initial)

    /** What the screen shows. */
    val state: StateFlow<S> = mutable.asStateFlow()

    /** [state] with [message] as its error (and no longer loading). */
    protected abstract fun failed(state: S, message: String): S

    /** Reads the screen's state again. */
    abstract suspend fun refresh()

    /** Reads the state now and again on every change of the space (subscribed first). */
    protected fun start() {
        scope.launch { core.changes().collect { refresh() } }
    }

    /** Sets the state [read] makes, or the failure's message. */
    protected suspend fun load(read: suspend () -> S) {
        try {
            mutable.value = read()
        } catch (e: Exception) {
            fail(e)
        }
    }

    /**
     * Reads with [read], then applies what it returns to the state as it is then, so what an
     * action set meanwhile (e.g. a secret being shown) is kept; a failure is the core's message.
     */
    protected suspend fun merge(read: suspend () -> (S) -> S) {
        try {
            mutable.update(read())
        } catch (e: Exception) {
            fail(e)
        }
    }

    /** Runs an action, then reads the state again; a failure is the core's message. */
    protected fun act(call: suspend () -> Unit) {
        scope.launch {
            try {
                call()
                refresh()
            } catch (e: Exception) {
                fail(e)
            }
        }
    }

    /** Shows [message] (an input the screen refuses before calling the core). */
    protected fun refuse(message: String) = mutable.update { failed(it, message) }

    private fun fail(e: Exception) = refuse(e.message ?: e.toString())
}
