package org.accord.app.core

import kotlinx.coroutines.flow.Flow
import org.accord.core.Agenda
import org.accord.core.AgreementDetails
import org.accord.core.AgreementId
import org.accord.core.AgreementSummary
import org.accord.core.Concern
import org.accord.core.CommitmentRule
import org.accord.core.DeviceId
import org.accord.core.RecurrenceRule
import org.accord.core.Reminder
import org.accord.core.HistoryEntry
import org.accord.core.InviteRole
import org.accord.core.Position
import org.accord.core.LogEntry
import org.accord.core.LogKind
import org.accord.core.PeerStatus
import org.accord.core.Field
import org.accord.core.ConcernId
import org.accord.core.NewAgreement
import org.accord.core.NewConcern
import org.accord.core.SpaceInfo
import org.accord.core.SyncReport
import java.time.Instant

/** A device of this partner asking to join: its id, its name and the code both screens show. */
data class PairingRequest(val device: DeviceId, val deviceName: String, val code: String)

/**
 * What the screens need of the core: the bindings' own types, behind an interface so state
 * holders are tested against the real library ([RustCore]) and against a fake. Every call may
 * throw the core's error (`AccordException`), whose message is meant for the screen.
 */
interface AccordCore {
    /** The space, its partners and devices, and who this device's partner is. */
    suspend fun info(): SpaceInfo

    /** Every agreement, in the core's order. */
    suspend fun agreements(): List<AgreementSummary>

    /** Everything about one agreement. */
    suspend fun agreement(id: AgreementId): AgreementDetails

    /** Writes a new agreement (this partner accepts its words unless it is a draft). */
    suspend fun createAgreement(input: NewAgreement): AgreementId

    /** Accepts the agreement's current exact words. */
    suspend fun accept(id: AgreementId)

    /** Changes an agreement's words; both partners must accept the new words again. */
    suspend fun editWords(id: AgreementId, title: String, details: String)

    /** Settles a conflict on [field] by choosing [value] (one of the versions, or new words). */
    suspend fun resolveConflict(id: AgreementId, field: Field, value: String)

    /** An agreement's history: who did what, and what changed, oldest first. */
    suspend fun history(id: AgreementId): List<HistoryEntry>

    /** Both partners' sealed positions on [topic], as this device may see them. */
    suspend fun positions(topic: String): List<Position>

    /** Writes (or rewrites) my sealed position on [topic]. */
    suspend fun writePosition(topic: String, text: String)

    /** Marks my position on [topic] ready: final; both are revealed once both are ready. */
    suspend fun markPositionReady(topic: String)

    /** This partner's reminders in the next 30 days, soonest first (at most 20). */
    suspend fun upcomingReminders(now: Instant): List<Reminder>

    /** Marks a reminder done (for both partners). */
    suspend fun markReminderDone(id: String)

    /** Snoozes one of my reminders until [until]. */
    suspend fun snoozeReminder(id: String, until: Instant)

    /** The recurring reminders attached to an agreement. */
    suspend fun commitmentRules(agreement: AgreementId): List<CommitmentRule>

    /** Attaches a recurring reminder to an agreement (both partners are reminded). */
    suspend fun addCommitmentRule(agreement: AgreementId, rule: RecurrenceRule)

    /** Removes a recurring reminder. */
    suspend fun removeCommitmentRule(ruleId: String)

    /** The follow-through log of one agreement, in causal order. */
    suspend fun followThrough(id: AgreementId): List<LogEntry>

    /** Logs follow-through on an agreement: kept, missed or a note (never a score). */
    suspend fun logFollowThrough(id: AgreementId, kind: LogKind, text: String)

    /** Per device of the couple: whether it has all of this device's changes (never a time). */
    suspend fun syncStatus(): List<PeerStatus>

    /**
     * Syncs with every other device of the couple now, waiting at most [timeoutMs]: which
     * devices have everything now and which could not be reached.
     */
    suspend fun syncNow(timeoutMs: Long): SyncReport

    /** Removes one of this partner's own devices (a lost phone). */
    suspend fun unpair(device: DeviceId)

    /** A new recovery secret for this partner, to show once (the old one stops working). */
    suspend fun setUpRecovery(): String

    /** Retires an agreement (it stays in the history). */
    suspend fun retire(id: AgreementId, reason: String)

    /** Asks to revisit an agreement; it is active again once both accept. */
    suspend fun requestRenegotiation(id: AgreementId, reason: String)

    /** Every agreement, with who accepted which words, as a Markdown document. */
    suspend fun exportMarkdown(): String

    /** Ends the pairing with the other partner: their devices stop syncing; both keep their copies. */
    suspend fun endPairing()

    /** Concerns, oldest first. */
    suspend fun concerns(): List<Concern>

    /** Raises a concern: what happened, how I felt, what I need in repair. */
    suspend fun raiseConcern(input: NewConcern): ConcernId

    /** Acknowledges the other partner's concern ("I hear you"). */
    suspend fun acknowledgeConcern(id: ConcernId)

    /** Answers a concern in words. */
    suspend fun respondToConcern(id: ConcernId, text: String)

    /** Resolves one's own concern (repair happened). */
    suspend fun resolveConcern(id: ConcernId)

    /** Turns a concern about an agreement into renegotiating it, with why. */
    suspend fun renegotiateFromConcern(id: ConcernId, reason: String)

    /** The check-in agenda at [now], in the domain's order. */
    suspend fun agenda(now: Instant): Agenda

    /** Records a check-in held on [heldOn] (`YYYY-MM-DD`) with shared [notes]. */
    suspend fun recordCheckin(heldOn: String, notes: String)

    /** The couple's check-in rhythm, if one is set. */
    suspend fun checkinRitual(): RecurrenceRule?

    /** Sets the couple's check-in rhythm (both are reminded); null stops it. */
    suspend fun setCheckinRitual(rule: RecurrenceRule?)

    /**
     * A one-time ticket (text, also shown as a QR code): for the other partner's first device
     * ([InviteRole.PARTNER]), or for their new device after they lost every device, which joins
     * only with their recovery secret ([InviteRole.RETURNING_PARTNER]).
     */
    suspend fun invite(role: InviteRole): String

    /** A device of this partner asking to join with a my-device ticket, while collected. */
    fun pairingRequests(): Flow<PairingRequest>

    /** Answers a pairing request: [confirm] when the new device shows the same code. */
    suspend fun confirmPairing(device: DeviceId, confirm: Boolean)

    /**
     * Emits once as soon as it is subscribed (so a first read never misses a change made just
     * before), then whenever the space changed (a local write or a partner's change arrived).
     */
    fun changes(): Flow<Unit>
}
