package org.accord.app.detail

import kotlinx.coroutines.CoroutineScope
import org.accord.app.Words
import org.accord.app.rhythm.Rhythm
import org.accord.app.core.AccordCore
import org.accord.app.core.myZone
import org.accord.app.core.names
import org.accord.app.core.ScreenHolder
import org.accord.core.AgreementDetails
import org.accord.core.AgreementId
import org.accord.core.Field
import org.accord.core.HistoryEntry
import org.accord.core.CommitmentRule
import org.accord.core.Frequency
import org.accord.core.LogEntry
import org.accord.core.RecurrenceRule
import org.accord.core.Weekday
import org.accord.core.Position
import org.accord.core.LogKind
import org.accord.core.PartnerId

/** The agreement detail screen. */
data class DetailState(
    val loading: Boolean = true,
    val details: AgreementDetails? = null,
    /** This device's partner. */
    val me: PartnerId? = null,
    /** Names of the partners, by id. */
    val names: Map<PartnerId, String> = emptyMap(),
    /** Its follow-through log, in causal order. */
    val log: List<LogEntry> = emptyList(),
    /** Its history, oldest first. */
    val history: List<HistoryEntry> = emptyList(),
    /** Both partners' sealed positions on it. */
    val positions: List<Position> = emptyList(),
    /** Its recurring reminders. */
    val rules: List<CommitmentRule> = emptyList(),
    /** My time zone (new reminders are in it). */
    val myZone: String = "UTC",
    /** The core's message for the last call that failed. */
    val error: String? = null,
) {
    /** Whether this partner accepted the current words. */
    val acceptedByMe: Boolean
        get() = me != null && details?.summary?.acceptedBy?.contains(me) == true

    /** Whether "accept" is offered: current words not yet accepted by me, no conflict. */
    val canAccept: Boolean
        get() = details != null && !acceptedByMe && details.conflicts.isEmpty() &&
            details.retirement == null
}

/** State holder of one agreement's detail screen. */
class AgreementDetailHolder(
    core: AccordCore,
    private val id: AgreementId,
    scope: CoroutineScope,
    private val today: () -> java.time.LocalDate = java.time.LocalDate::now,
) : ScreenHolder<DetailState>(core, scope, DetailState()) {
    init {
        start()
    }

    override fun failed(state: DetailState, message: String) = state.copy(loading = false, error = message)

    override suspend fun refresh() = load {
        val info = core.info()
        DetailState(
            loading = false,
            details = core.agreement(id),
            log = core.followThrough(id),
            history = core.history(id),
            positions = core.positions(id),
            rules = core.commitmentRules(id),
            myZone = info.myZone,
            me = info.me,
            names = info.names,
        )
    }

    /** Accepts the current exact words. */
    fun accept() = act { core.accept(id) }

    /** Changes the words (title and details); both must accept them again. */
    fun edit(title: String, details: String) {
        if (title.isBlank()) return refuse(Words.EMPTY_TITLE)
        act { core.editWords(id, title.trim(), details.trim()) }
    }

    /** Writes (or rewrites) my sealed position on this agreement. */
    fun writePosition(text: String) {
        if (text.isBlank()) return refuse(Words.EMPTY_POSITION)
        act { core.writePosition(id, text.trim()) }
    }

    /** Marks my position ready (final). */
    fun markPositionReady() = act { core.markPositionReady(id) }

    /** Reminds us both in [rhythm], in my time zone, from today. */
    fun remind(rhythm: Rhythm) {
        val rule = try {
            rhythm.toRule(mutable.value.myZone, today())
        } catch (refused: Rhythm.Refused) {
            return refuse(refused.message!!)
        }
        act { core.addCommitmentRule(id, rule) }
    }

    /** Retires the agreement, with a reason (it stays in the history). */
    fun retire(reason: String) = act { core.retire(id, reason.trim()) }

    /** Asks to revisit the agreement; both accept again. */
    fun renegotiate(reason: String) = act { core.requestRenegotiation(id, reason.trim()) }

    /** Removes a recurring reminder. */
    fun removeRule(ruleId: String) = act { core.removeCommitmentRule(ruleId) }

    /** Logs follow-through: kept, missed or a note. */
    fun log(kind: LogKind, text: String) = act { core.logFollowThrough(id, kind, text.trim()) }

    /** Keeps [value] for [field], settling the conflict. */
    fun choose(field: Field, value: String) {
        if (field == Field.TITLE && value.isBlank()) return refuse(Words.EMPTY_TITLE)
        act { core.resolveConflict(id, field, value.trim()) }
    }
}
