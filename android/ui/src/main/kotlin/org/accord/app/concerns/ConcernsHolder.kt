package org.accord.app.concerns

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import org.accord.app.Words
import org.accord.app.core.AccordCore
import org.accord.core.Concern
import org.accord.core.ConcernId
import org.accord.core.ConcernState
import org.accord.core.NewConcern
import org.accord.core.PartnerId

/** One concern with what this partner may do with it. */
data class ConcernItem(
    val concern: Concern,
    /** Raised by the other partner and not acknowledged yet. */
    val canAcknowledge: Boolean,
    /** Raised by me and not resolved. */
    val canResolve: Boolean,
    /** Not resolved: either partner may answer. */
    val canRespond: Boolean,
)

/** The concerns screen: open ones first, oldest first within each group. */
data class ConcernsState(
    val loading: Boolean = true,
    val items: List<ConcernItem> = emptyList(),
    val names: Map<PartnerId, String> = emptyMap(),
    val error: String? = null,
)

/** State holder of concerns and repair, refreshed on every change of the space. */
class ConcernsHolder(private val core: AccordCore, private val scope: CoroutineScope) {
    private val mutable = MutableStateFlow(ConcernsState())

    /** What the screen shows. */
    val state: StateFlow<ConcernsState> = mutable.asStateFlow()

    init {
        scope.launch {
            refresh()
            core.changes().collect { refresh() }
        }
    }

    /** Reads the concerns again. */
    suspend fun refresh() {
        try {
            val info = core.info()
            val me = info.me
            val items = core.concerns().map { c ->
                val open = c.state != ConcernState.RESOLVED
                ConcernItem(
                    concern = c,
                    canAcknowledge = c.raisedBy != me && !c.acknowledged && open,
                    canResolve = c.raisedBy == me && open,
                    canRespond = open,
                )
            }.sortedBy { if (it.concern.state == ConcernState.RESOLVED) 1 else 0 }
            mutable.value = ConcernsState(
                loading = false,
                items = items,
                names = info.partners.associate { it.id to it.name },
            )
        } catch (e: Exception) {
            mutable.update { it.copy(loading = false, error = e.message ?: e.toString()) }
        }
    }

    /** Raises a concern: what happened, how I felt, what I need in repair. */
    fun raise(whatHappened: String, howIFelt: String, whatINeed: String) {
        if (whatHappened.isBlank()) {
            mutable.update { it.copy(error = Words.EMPTY_CONCERN) }
            return
        }
        act { core.raiseConcern(NewConcern(null, whatHappened.trim(), howIFelt.trim(), whatINeed.trim())) }
    }

    /** "I hear you" on the other partner's concern. */
    fun acknowledge(id: ConcernId) = act { core.acknowledgeConcern(id) }

    /** Answers a concern in words. */
    fun respond(id: ConcernId, text: String) = act { core.respondToConcern(id, text) }

    /** Resolves one's own concern. */
    fun resolve(id: ConcernId) = act { core.resolveConcern(id) }

    private fun act(call: suspend () -> Unit) {
        scope.launch {
            try {
                call()
                mutable.update { it.copy(error = null) }
                refresh()
            } catch (e: Exception) {
                mutable.update { it.copy(error = e.message ?: e.toString()) }
            }
        }
    }
}
