package org.accord.app.core

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.withContext
import org.accord.core.Agenda
import org.accord.core.AgreementDetails
import org.accord.core.AgreementId
import org.accord.core.AgreementSummary
import org.accord.core.InviteRole
import org.accord.core.ListFilter
import org.accord.core.AgreementEdit
import org.accord.core.Concern
import org.accord.core.CommitmentRule
import org.accord.core.DeviceId
import org.accord.core.RecurrenceRule
import org.accord.core.Reminder
import org.accord.core.HistoryEntry
import org.accord.core.Position
import org.accord.core.LogEntry
import org.accord.core.LogKind
import org.accord.core.PeerStatus
import org.accord.core.Field
import org.accord.core.ConcernId
import org.accord.core.NewAgreement
import org.accord.core.NewConcern
import org.accord.core.NodeEvent
import org.accord.core.SpaceInfo
import org.accord.core.SyncReport
import org.accord.ffi.AccordNode
import org.accord.ffi.NetworkMode
import org.accord.ffi.NodeListener
import java.time.Instant

/**
 * [AccordCore] over a running node of the real library. Every call runs on [io], never on
 * the main thread; the node's listener becomes a flow whose subscription is cancelled when
 * collection stops.
 */
class RustCore(
    /** The node this device runs (the app shuts it down when it closes). */
    val node: AccordNode,
    private val io: CoroutineDispatcher = Dispatchers.IO,
) : AccordCore {
    private val space get() = node.space()

    override suspend fun info(): SpaceInfo = withContext(io) { space.info() }

    override suspend fun agreements(): List<AgreementSummary> =
        withContext(io) { space.list(ListFilter()) }

    override suspend fun agreement(id: AgreementId): AgreementDetails =
        withContext(io) { space.agreement(id) }

    override suspend fun createAgreement(input: NewAgreement): AgreementId =
        withContext(io) { space.createAgreement(input) }

    override suspend fun accept(id: AgreementId) = withContext(io) { space.accept(id) }

    override suspend fun editWords(id: AgreementId, title: String, details: String) =
        withContext(io) { space.editAgreement(id, AgreementEdit(title = title, details = details)) }

    override suspend fun resolveConflict(id: AgreementId, field: Field, value: String) =
        withContext(io) { space.resolveConflict(id, field, value) }

    override suspend fun history(id: AgreementId): List<HistoryEntry> = withContext(io) { space.history(id) }

    override suspend fun positions(topic: String): List<Position> = withContext(io) { space.positions(topic) }

    override suspend fun writePosition(topic: String, text: String) =
        withContext(io) { space.writePosition(topic, text) }

    override suspend fun markPositionReady(topic: String) = withContext(io) { space.markPositionReady(topic) }

    override suspend fun upcomingReminders(now: Instant): List<Reminder> =
        withContext(io) { space.upcomingReminders(now, 20u, 30u) }

    override suspend fun markReminderDone(id: String) = withContext(io) { space.markReminderDone(id) }

    override suspend fun snoozeReminder(id: String, until: Instant) =
        withContext(io) { space.snoozeReminder(id, until) }

    override suspend fun commitmentRules(agreement: AgreementId): List<CommitmentRule> =
        withContext(io) { space.commitmentRules(agreement) }

    override suspend fun addCommitmentRule(agreement: AgreementId, rule: RecurrenceRule) {
        withContext(io) { space.addCommitmentRule(agreement, rule, null) }
    }

    override suspend fun removeCommitmentRule(ruleId: String) = withContext(io) { space.removeCommitmentRule(ruleId) }

    override suspend fun followThrough(id: AgreementId): List<LogEntry> =
        withContext(io) { space.followThrough(id) }

    override suspend fun logFollowThrough(id: AgreementId, kind: LogKind, text: String) {
        withContext(io) { space.logFollowThrough(id, kind, text) }
    }

    override suspend fun syncStatus(): List<PeerStatus> = withContext(io) { node.syncStatus() }

    override suspend fun unpair(device: DeviceId) = withContext(io) { node.unpair(device) }

    override suspend fun setUpRecovery(): String = withContext(io) { space.setUpRecovery() }

    override suspend fun retire(id: AgreementId, reason: String) = withContext(io) { space.retire(id, reason) }

    override suspend fun requestRenegotiation(id: AgreementId, reason: String) =
        withContext(io) { space.requestRenegotiation(id, reason) }

    override suspend fun endPairing() {
        withContext(io) { node.endPairing() }
    }

    override suspend fun renegotiateFromConcern(id: ConcernId, reason: String) {
        withContext(io) { space.renegotiateFromConcern(id, reason) }
    }

    override suspend fun checkinRitual(): RecurrenceRule? = withContext(io) { space.checkinRitual() }

    override suspend fun setCheckinRitual(rule: RecurrenceRule?) {
        withContext(io) { space.setCheckinRitual(rule) }
    }

    override suspend fun syncNow(timeoutMs: Long): SyncReport =
        withContext(io) { node.syncNow(timeoutMs.toULong()) }

    override suspend fun exportMarkdown(): String = withContext(io) { space.exportMarkdown() }

    override suspend fun concerns(): List<Concern> = withContext(io) { space.concerns() }

    override suspend fun raiseConcern(input: NewConcern): ConcernId =
        withContext(io) { space.raiseConcern(input) }

    override suspend fun acknowledgeConcern(id: ConcernId) =
        withContext(io) { space.acknowledgeConcern(id) }

    override suspend fun respondToConcern(id: ConcernId, text: String) =
        withContext(io) { space.respondToConcern(id, text) }

    override suspend fun resolveConcern(id: ConcernId) = withContext(io) { space.resolveConcern(id) }

    override suspend fun agenda(now: Instant): Agenda = withContext(io) { space.agenda(now) }

    override suspend fun recordCheckin(heldOn: String, notes: String) {
        withContext(io) { space.recordCheckin(heldOn, notes) }
    }

    override suspend fun invite(role: InviteRole): String = withContext(io) { node.invite(role, TICKET_MINUTES) }

    override fun pairingRequests(): Flow<PairingRequest> = callbackFlow {
        val subscription = node.subscribe(object : NodeListener {
            override fun onEvent(event: NodeEvent) {
                if (event is NodeEvent.ConfirmPairing) trySend(PairingRequest(event.device, event.deviceName, event.code))
            }
        })
        awaitClose { subscription.cancel() }
    }.buffer(Channel.UNLIMITED)

    override suspend fun confirmPairing(device: DeviceId, confirm: Boolean) {
        withContext(io) { node.confirmPairing(device, confirm) }
    }

    override fun changes(): Flow<Unit> = callbackFlow {
        val subscription = node.subscribe(object : NodeListener {
            override fun onEvent(event: NodeEvent) {
                if (event is NodeEvent.DocumentChanged) trySend(Unit)
            }
        })
        trySend(Unit) // subscribed: read now
        awaitClose { subscription.cancel() }
    }.buffer(Channel.CONFLATED)
}

/** How long an invitation works: long enough to pair while together. */
private const val TICKET_MINUTES = 10u

/**
 * Makes this device's space in [dir] (created, or joined with a ticket) and keeps it connected
 * to the couple's other devices while the app runs.
 */
class RustSpaces(
    private val dir: String,
    private val network: NetworkMode,
    private val deviceName: String,
    private val io: CoroutineDispatcher = Dispatchers.IO,
) : SpaceFactory {
    override suspend fun create(name: String, timeZone: String): AccordCore = withContext(io) {
        connected(AccordNode.create(dir, name, timeZone, deviceName, network))
    }

    override suspend fun join(ticket: String, name: String, timeZone: String): AccordCore =
        withContext(io) { connected(AccordNode.join(dir, ticket, name, timeZone, deviceName, network)) }

    override suspend fun comeBack(ticket: String, recoverySecret: String): AccordCore =
        withContext(io) { connected(AccordNode.joinRecovered(dir, ticket, recoverySecret, deviceName, network)) }

    override suspend fun deleteThisCopy(current: AccordCore) = withContext(io) {
        (current as RustCore).node.shutdown()
        java.io.File(dir).listFiles()?.forEach { it.deleteRecursively() }
        Unit
    }

    override suspend fun confirmationCode(ticket: String): String =
        withContext(io) { org.accord.ffi.joinConfirmationCode(dir, ticket) }

    override suspend fun reopen(current: AccordCore, network: NetworkMode): AccordCore =
        withContext(io) {
            (current as RustCore).node.shutdown()
            connected(AccordNode.open(dir, network))
        }

    private fun connected(node: AccordNode): RustCore {
        node.keepConnected()
        return RustCore(node, io)
    }
}
