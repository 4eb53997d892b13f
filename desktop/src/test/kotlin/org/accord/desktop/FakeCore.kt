package org.accord.desktop

import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.onSubscription
import org.accord.app.core.AccordCore
import org.accord.core.Acceptance
import org.accord.core.AccordException
import org.accord.core.AgreementDetails
import org.accord.core.AgreementId
import org.accord.core.AgreementSummary
import org.accord.core.Agenda
import org.accord.core.Candidate
import org.accord.core.Retirement
import org.accord.core.CommitmentRule
import org.accord.core.RecurrenceRule
import org.accord.core.Reminder
import org.accord.core.ReminderKind
import org.accord.core.ReminderTarget
import org.accord.core.Targets
import org.accord.core.HistoryEntry
import org.accord.core.Position
import org.accord.core.PositionState
import org.accord.core.Device
import org.accord.core.DeviceId
import org.accord.core.PeerStatus
import org.accord.core.Category
import org.accord.core.Field
import org.accord.core.FieldConflict
import org.accord.core.CheckIn
import org.accord.core.Concern
import org.accord.core.ConcernEvent
import org.accord.core.ConcernId
import org.accord.core.ConcernState
import org.accord.core.ConcernStep
import org.accord.core.LogEntry
import org.accord.core.LogKind
import org.accord.core.NewConcern
import org.accord.core.Upcoming
import org.accord.core.Waiting
import org.accord.core.Concerns
import org.accord.core.Kind
import org.accord.core.NewAgreement
import org.accord.core.Partner
import org.accord.core.PartnerId
import org.accord.core.SpaceInfo
import org.accord.core.StandardCategory
import org.accord.core.Status
import org.accord.core.Strength
import java.time.Instant

/** An in-memory [AccordCore] for screen tests: Alex (me) and Sam, with the given agreements. */
class FakeCore(agreements: List<AgreementSummary> = emptyList()) : AccordCore {
    val alex: PartnerId = "a1ec5000000000aa"
    val sam: PartnerId = "5a3000000000005a"
    private val all = agreements.toMutableList()
    private val changes = MutableSharedFlow<Unit>(extraBufferCapacity = 16)

    /** When set, every call fails with this message (as the core's error would). */
    var failWith: String? = null

    private fun check() {
        failWith?.let { throw AccordException.NotAllowed(it) }
    }

    /** Whether Sam joined (the agreements screen offers an invitation until then). */
    var samJoined = true

    override suspend fun info(): SpaceInfo {
        check()
        return SpaceInfo(
            id = "5bace",
            schemaVersion = 4uL,
            readOnly = null,
            myDevice = "d".repeat(64),
            me = alex,
            partners = listOfNotNull(
                Partner(alex, "Alex", "Europe/Berlin", true),
                Partner(sam, "Sam", "Europe/Berlin", true).takeIf { samJoined },
            ),
            devices = listOf(
                Device("d".repeat(64), alex, "Alex's laptop", false),
                Device("t".repeat(64), alex, "Alex's tablet", "t".repeat(64) in unpaired),
                Device("s".repeat(64), sam, "Sam's phone", false),
            ),
            ending = null,
        )
    }

    override suspend fun agreements(): List<AgreementSummary> {
        check()
        return all.toList()
    }

    /** Proposed words Alex (me) has not accepted. */
    private fun waitingForMe() = all.filter { it.status == Status.PROPOSED && alex !in it.acceptedBy }

    override suspend fun agreement(id: AgreementId): AgreementDetails {
        check()
        val summary = all.firstOrNull { it.id == id }
            ?: throw AccordException.NotFound("no agreement with id $id")
        return AgreementDetails(
            summary = summary,
            details = "",
            contentHash = null,
            reviewEvery = null,
            createdBy = sam,
            conflicts = conflicts[id] ?: emptyList(),
            acceptances = emptyList<Acceptance>(),
            changesSinceAcceptance = emptyList(),
            retirement = retired[id],
            renegotiationRequested = false,
        )
    }

    override suspend fun createAgreement(input: NewAgreement): AgreementId {
        check()
        val id = "f" + all.size
        all += summary(id, input.title, input.category, Status.PROPOSED, input.strength, listOf(alex))
        changes.tryEmit(Unit)
        return id
    }

    override suspend fun accept(id: AgreementId) {
        check()
        val at = all.indexOfFirst { it.id == id }
        val before = all[at]
        val accepted = (before.acceptedBy + alex).distinct()
        all[at] = before.copy(
            acceptedBy = accepted,
            status = if (accepted.size == 2) Status.ACTIVE else before.status,
        )
        changes.tryEmit(Unit)
    }

    /** Conflicts per agreement (as two offline edits would leave them). */
    val conflicts = mutableMapOf<AgreementId, List<FieldConflict>>()

    override suspend fun editWords(id: AgreementId, title: String, details: String) {
        check()
        val at = all.indexOfFirst { it.id == id }
        all[at] = all[at].copy(title = title, status = Status.PROPOSED, acceptedBy = listOf(alex))
        changes.tryEmit(Unit)
    }

    override suspend fun resolveConflict(id: AgreementId, field: Field, value: String) {
        check()
        conflicts.remove(id)
        val at = all.indexOfFirst { it.id == id }
        all[at] = all[at].copy(title = value, status = Status.PROPOSED, acceptedBy = emptyList())
        changes.tryEmit(Unit)
    }

    private val concernList = mutableListOf<Concern>()
    private val logs = mutableListOf<LogEntry>()
    private val positionList = mutableListOf<Position>()
    private val rules = mutableListOf<CommitmentRule>()
    private val retired = mutableMapOf<AgreementId, Retirement>()

    override suspend fun retire(id: AgreementId, reason: String) {
        check()
        retired[id] = Retirement(alex, reason, Instant.parse("2027-03-04T09:00:00Z"))
        val at = all.indexOfFirst { it.id == id }
        all[at] = all[at].copy(status = Status.RETIRED)
        changes.tryEmit(Unit)
    }

    override suspend fun requestRenegotiation(id: AgreementId, reason: String) {
        check()
        val at = all.indexOfFirst { it.id == id }
        all[at] = all[at].copy(status = Status.NEEDS_RENEGOTIATION)
        changes.tryEmit(Unit)
    }

    override fun pairingRequests(): kotlinx.coroutines.flow.Flow<org.accord.app.core.PairingRequest> =
        kotlinx.coroutines.flow.emptyFlow()

    override suspend fun confirmPairing(device: DeviceId, confirm: Boolean) {
        throw AccordException.NotAllowed("no device is asking to join")
    }

    override suspend fun syncNow(timeoutMs: Long): org.accord.core.SyncReport {
        check()
        return org.accord.core.SyncReport(emptyList(), emptyList(), 0uL, 0uL)
    }

    override suspend fun exportMarkdown(): String {
        check()
        return "# Our agreements\n\n" + all.joinToString("") { "### ${it.title}\n\n" }
    }

    override suspend fun endPairing() {
        check()
        throw AccordException.NotAllowed("not in the fake")
    }
    private val doneReminders = mutableSetOf<String>()

    override suspend fun upcomingReminders(now: Instant): List<Reminder> {
        check()
        return rules.flatMapIndexed { i, rule ->
            val title = all.first { it.id == rule.agreement }.title
            (0 until 3).map { week ->
                val day = 12 + 7 * week
                Reminder("r$i-$week", "o$i-$week", ReminderKind.COMMITMENT, alex,
                    Instant.parse("2027-03-${day}T18:00:00Z"), "2027-03-${day}T19:00:00", rule.rule.timeZone,
                    title, "Time for: $title (you both agreed)", ReminderTarget.Agreement(rule.agreement))
            }
        }.filter { it.id !in doneReminders }
    }

    override suspend fun markReminderDone(id: String) {
        check()
        doneReminders += id
        changes.tryEmit(Unit)
    }

    override suspend fun snoozeReminder(id: String, until: Instant) = markReminderDone(id)

    override suspend fun commitmentRules(agreement: AgreementId): List<CommitmentRule> {
        check()
        return rules.filter { it.agreement == agreement }
    }

    override suspend fun addCommitmentRule(agreement: AgreementId, rule: RecurrenceRule) {
        check()
        rules += CommitmentRule("rule${rules.size}", agreement, rule, Targets.Both)
        changes.tryEmit(Unit)
    }

    override suspend fun removeCommitmentRule(ruleId: String) {
        check()
        rules.removeAll { it.id == ruleId }
        changes.tryEmit(Unit)
    }

    override suspend fun history(id: AgreementId): List<HistoryEntry> {
        check()
        return listOf(
            HistoryEntry(Instant.parse("2027-03-01T09:00:00Z"), sam, null, "created", emptyList()),
            HistoryEntry(Instant.parse("2027-03-02T09:00:00Z"), alex, null, "accepted", emptyList()),
        )
    }

    override suspend fun positions(topic: String): List<Position> {
        check()
        return positionList.filter { it.topic == topic }
    }

    override suspend fun writePosition(topic: String, text: String) {
        check()
        positionList.removeAll { it.topic == topic && it.partner == alex }
        positionList += Position(topic, alex, PositionState.DRAFT, text)
        changes.tryEmit(Unit)
    }

    override suspend fun markPositionReady(topic: String) {
        check()
        val at = positionList.indexOfFirst { it.topic == topic && it.partner == alex }
        positionList[at] = positionList[at].copy(state = PositionState.READY)
        changes.tryEmit(Unit)
    }

    /** Sam's sealed position on [topic] (ready, not readable here). */
    fun samPosition(topic: String) {
        positionList += Position(topic, sam, PositionState.READY, null)
    }

    override suspend fun followThrough(id: AgreementId): List<LogEntry> {
        check()
        return logs.filter { it.agreement == id }
    }

    override suspend fun logFollowThrough(id: AgreementId, kind: LogKind, text: String) {
        check()
        logs += LogEntry("l${logs.size}", id, kind, text, alex, Instant.parse("2027-03-03T20:00:00Z"), logs.size.toLong())
        changes.tryEmit(Unit)
    }

    override suspend fun syncStatus(): List<PeerStatus> {
        check()
        return listOf(
            PeerStatus("s".repeat(64), sam, "Sam's phone", true),
            PeerStatus("t".repeat(64), alex, "Alex's tablet", false),
        )
    }

    override suspend fun unpair(device: DeviceId) {
        check()
        unpaired += device
        changes.tryEmit(Unit)
    }

    private val unpaired = mutableSetOf<DeviceId>()

    override suspend fun setUpRecovery(): String {
        check()
        return "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567-ABCD"
    }

    override suspend fun concerns(): List<Concern> {
        check()
        return concernList.toList()
    }

    override suspend fun raiseConcern(input: NewConcern): ConcernId {
        check()
        val id = "c" + concernList.size
        concernList += Concern(id, input.agreement, input.whatHappened, input.howIFelt, input.whatINeed,
            alex, Instant.parse("2027-03-01T09:00:00Z"), ConcernState.OPEN, false, emptyList(), concernList.size.toLong())
        changes.tryEmit(Unit)
        return id
    }

    override suspend fun acknowledgeConcern(id: ConcernId) = step(id, ConcernState.ACKNOWLEDGED, ConcernStep.ACKNOWLEDGED, "")

    override suspend fun respondToConcern(id: ConcernId, text: String) = step(id, ConcernState.RESPONDED, ConcernStep.RESPONDED, text)

    override suspend fun resolveConcern(id: ConcernId) = step(id, ConcernState.RESOLVED, ConcernStep.RESOLVED, "")

    override suspend fun renegotiateFromConcern(id: ConcernId, reason: String) {
        val about = concernList.first { it.id == id }.agreement
            ?: throw AccordException.NotAllowed("this concern is about no agreement")
        step(id, ConcernState.RENEGOTIATION, ConcernStep.RENEGOTIATION, reason)
        val at = all.indexOfFirst { it.id == about }
        all[at] = all[at].copy(status = Status.NEEDS_RENEGOTIATION)
    }

    private fun step(id: ConcernId, state: ConcernState, step: ConcernStep, text: String) {
        check()
        val at = concernList.indexOfFirst { it.id == id }
        val c = concernList[at]
        val event = ConcernEvent("e${c.events.size}$id", step, alex, text, Instant.parse("2027-03-02T09:00:00Z"))
        concernList[at] = c.copy(state = state, acknowledged = c.acknowledged || step == ConcernStep.ACKNOWLEDGED,
            events = c.events + event)
        changes.tryEmit(Unit)
    }

    /** A concern Sam raised (for screens that show the other partner's concern). */
    fun samRaises(what: String, felt: String, need: String) {
        concernList += Concern("s" + concernList.size, null, what, felt, need, sam,
            Instant.parse("2027-03-01T09:00:00Z"), ConcernState.OPEN, false, emptyList(), concernList.size.toLong())
        changes.tryEmit(Unit)
    }

    var checkins = mutableListOf<CheckIn>()

    override suspend fun agenda(now: Instant): Agenda {
        check()
        return Agenda(
            appreciationPrompt = "Start with appreciation: each of you names one thing the other did since the last check-in that you valued.",
            openConcerns = concernList.filter { it.state != ConcernState.RESOLVED },
            dueForReview = all.filter { it.id == "e6" },
            missedSinceLastCheckin = listOf(
                LogEntry("l1", "e3", LogKind.MISSED, "Worked late, forgot to plan it", sam,
                    Instant.parse("2027-03-05T19:30:00Z"), 1),
            ),
            waitingForPartner = waitingForMe().map { Waiting(it, listOf(alex)) },
            upcoming = listOf(Upcoming("Date night every Friday from 19:00; we alternate who plans it.",
                Instant.parse("2027-03-12T18:00:00Z"))),
            lastCheckin = checkins.lastOrNull(),
        )
    }

    private var ritual: RecurrenceRule? = null

    override suspend fun checkinRitual(): RecurrenceRule? {
        check()
        return ritual
    }

    override suspend fun setCheckinRitual(rule: RecurrenceRule?) {
        check()
        ritual = rule
        changes.tryEmit(Unit)
    }

    override suspend fun recordCheckin(heldOn: String, notes: String) {
        check()
        checkins += CheckIn("k${checkins.size}", heldOn, notes, alex, Instant.now(), checkins.size.toLong())
        changes.tryEmit(Unit)
    }

    override suspend fun invite(role: org.accord.core.InviteRole): String {
        check()
        return "accord1faketicketforscreens"
    }

    override fun changes(): Flow<Unit> = changes.onSubscription { emit(Unit) }

    /** As if a change from Sam's device arrived. */
    fun remoteChange(update: (MutableList<AgreementSummary>) -> Unit) {
        update(all)
        changes.tryEmit(Unit)
    }

    companion object {
        /** An agreement summary as the core would list it. */
        fun summary(
            id: String,
            title: String,
            category: Category,
            status: Status,
            strength: Strength,
            acceptedBy: List<PartnerId>,
            kind: Kind = Kind.AGREEMENT,
        ) = AgreementSummary(
            id = id,
            title = title,
            category = category,
            kind = kind,
            strength = strength,
            concerns = Concerns.Both,
            status = status,
            acceptedBy = acceptedBy,
            nextReview = null,
            createdAt = Instant.parse("2027-03-01T09:00:00Z"),
        )

        /** The example agreements of the product's domain notes, some waiting for Alex. */
        fun examples(): FakeCore {
            val core = FakeCore()
            val (alex, sam) = core.alex to core.sam
            fun std(c: StandardCategory) = Category.Standard(c)
            core.all += listOf(
                summary("e1", "On workdays we text once at lunch; longer talks wait until the evening.",
                    std(StandardCategory.COMMUNICATION), Status.ACTIVE, Strength.TRY_MY_BEST, listOf(alex, sam)),
                summary("e2", "If one of us will be more than 30 minutes late, we call or text before.",
                    std(StandardCategory.COMMUNICATION), Status.PROPOSED, Strength.PROMISE, listOf(sam)),
                summary("e3", "Date night every Friday from 19:00; we alternate who plans it.",
                    std(StandardCategory.TIME_TOGETHER), Status.ACTIVE, Strength.PROMISE, listOf(alex, sam)),
                summary("e4", "Whoever cooks doesn't wash up; dishes are done before bed.",
                    std(StandardCategory.HOUSEHOLD), Status.PROPOSED, Strength.TRY_MY_BEST, listOf(alex)),
                summary("e5", "Any purchase over 200 € is talked about first.",
                    std(StandardCategory.FINANCES), Status.ACTIVE, Strength.PROMISE, listOf(alex, sam)),
                summary("e6", "When one of us asks for a time-out, we pause for 20 minutes and then come back.",
                    std(StandardCategory.CONFLICT_RULES), Status.PROPOSED, Strength.EXPERIMENT, listOf(sam)),
                summary("e7", "Please don't share what I tell you in confidence with your family.",
                    std(StandardCategory.FAMILY_AND_FRIENDS), Status.ACTIVE, Strength.PROMISE, listOf(alex, sam),
                    kind = Kind.BOUNDARY),
            )
            return core
        }

        /** The examples, with the chores agreement rewritten offline by both: two versions. */
        fun withConflict(): FakeCore {
            val core = examples()
            core.conflicts["e4"] = listOf(
                FieldConflict(
                    Field.TITLE,
                    listOf(
                        Candidate("Whoever cooks doesn't wash up; dishes are done before bed.", core.alex, null),
                        Candidate("Whoever cooks doesn't wash up; dishes are done by the next morning.", core.sam, null),
                    ),
                ),
            )
            core.all[3] = core.all[3].copy(status = Status.CONFLICTED, acceptedBy = emptyList(),
                title = "Whoever cooks doesn't wash up; dishes are done before bed. | Whoever cooks doesn't wash up; dishes are done by the next morning.")
            return core
        }
    }
}
