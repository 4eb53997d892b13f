package org.accord.app.concerns

import kotlinx.coroutines.CoroutineScope
import org.accord.app.Words
import org.accord.app.core.AccordCore
import org.accord.app.core.ScreenHolder
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

/** State holder of concerns and repair. */
class ConcernsHolder(core: AccordCore, scope: CoroutineScope) :
    ScreenHolder<ConcernsState>(core, scope, ConcernsState()) {
    init {
        start()
    }

    override fun failed(state: ConcernsState, message: String) = state.copy(loading = false, error = message)

    override suspend fun refresh() = load {
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
        ConcernsState(loading = false, items = items, names = info.partners.associate { it.id to it.name })
    }

    /** Raises a concern: what happened, how I felt, what I need in repair. */
    fun raise(whatHappened: String, howIFelt: String, whatINeed: String) {
        if (whatHappened.isBlank()) return refuse(Words.EMPTY_CONCERN)
        act { core.raiseConcern(NewConcern(null, whatHappened.trim(), howIFelt.trim(), whatINeed.trim())) }
    }

    /** "I hear you" on the other partner's concern. */
    fun acknowledge(id: ConcernId) = act { core.acknowledgeConcern(id) }

    /** Answers a concern in words. */
    fun respond(id: ConcernId, text: String) = act { core.respondToConcern(id, text) }

    /** Resolves one's own concern. */
    fun resolve(id: ConcernId) = act { core.resolveConcern(id) }
}
