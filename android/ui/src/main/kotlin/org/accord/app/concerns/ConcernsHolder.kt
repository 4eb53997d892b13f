package org.accord.app.concerns

import kotlinx.coroutines.CoroutineScope
import org.accord.app.Words
import org.accord.app.core.AccordCore
import org.accord.app.core.names
import org.accord.app.core.ScreenHolder
import kotlinx.coroutines.flow.update
import org.accord.core.AgreementId
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
    /** Not closed: either partner may answer. */
    val canRespond: Boolean,
    /** Not closed and about an agreement: either partner may turn it into renegotiating it. */
    val canRenegotiate: Boolean,
)

/** The concerns screen: open ones first, oldest first within each group. */
data class ConcernsState(
    val loading: Boolean = true,
    val items: List<ConcernItem> = emptyList(),
    val names: Map<PartnerId, String> = emptyMap(),
    /** Agreements' words by id, for "About: …". */
    val titles: Map<AgreementId, String> = emptyMap(),
    /** The agreement a new concern is about (the screen was opened from it), if any. */
    val about: AgreementId? = null,
    val error: String? = null,
)

/** State holder of concerns and repair; a concern raised here is about [about], if given. */
class ConcernsHolder(core: AccordCore, scope: CoroutineScope, about: AgreementId? = null) :
    ScreenHolder<ConcernsState>(core, scope, ConcernsState(about = about)) {
    init {
        start()
    }

    override fun failed(state: ConcernsState, message: String) = state.copy(loading = false, error = message)

    override suspend fun refresh() = load {
        val info = core.info()
        val me = info.me
        val items = core.concerns().map { c ->
            val open = c.state != ConcernState.RESOLVED && c.state != ConcernState.RENEGOTIATION
            ConcernItem(
                concern = c,
                canAcknowledge = c.raisedBy != me && !c.acknowledged && open,
                canResolve = c.raisedBy == me && open,
                canRespond = open,
                canRenegotiate = open && c.agreement != null,
            )
        }.sortedBy { if (it.canRespond) 0 else 1 }
        val titles = core.agreements().associate { it.id to it.title }
        ConcernsState(
            loading = false,
            items = items,
            names = info.names,
            titles = titles,
            about = state.value.about,
        )
    }

    /** The next concern raised is about no agreement in particular. */
    fun aboutNothingInParticular() = mutable.update { it.copy(about = null) }

    /** Raises a concern: what happened, how I felt, what I need in repair. */
    fun raise(whatHappened: String, howIFelt: String, whatINeed: String) {
        if (whatHappened.isBlank()) return refuse(Words.EMPTY_CONCERN)
        val about = state.value.about
        act { core.raiseConcern(NewConcern(about, whatHappened.trim(), howIFelt.trim(), whatINeed.trim())) }
    }

    /** "I hear you" on the other partner's concern. */
    fun acknowledge(id: ConcernId) = act { core.acknowledgeConcern(id) }

    /** Answers a concern in words. */
    fun respond(id: ConcernId, text: String) = act { core.respondToConcern(id, text) }

    /** Resolves one's own concern. */
    fun resolve(id: ConcernId) = act { core.resolveConcern(id) }

    /** Turns the concern into renegotiating its agreement, with why (both accept it again). */
    fun renegotiate(id: ConcernId, reason: String) = act { core.renegotiateFromConcern(id, reason.trim()) }
}
