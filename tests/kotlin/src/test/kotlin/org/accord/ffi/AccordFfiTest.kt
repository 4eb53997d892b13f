package org.accord.ffi

import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.assertThrows
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger

/** Tests of the generated Kotlin bindings against the real Rust library (loopback only). */
@Timeout(120)
class AccordFfiTest {
    private val nodes = mutableListOf<AccordNode>()
    private val dirs = mutableListOf<Path>()

    private fun tempDir(): Path = Files.createTempDirectory("accord-ffi-test").also { dirs.add(it) }

    private fun newAlex(): AccordNode = runBlocking {
        AccordNode.create(
            tempDir().resolve("alex").toString(), "Alex", "Europe/Berlin", "Alex's phone", NetworkMode.LOOPBACK,
        )
    }.also { nodes.add(it) }

    private fun proposal(title: String) = NewAgreement(
        title = title,
        details = "Details of $title",
        category = "communication",
        kind = Kind.AGREEMENT,
        strength = Strength.PROMISE,
        concerns = "both",
        reviewEvery = null,
        draft = false,
    )

    @AfterEach
    fun tearDown() {
        runBlocking { nodes.forEach { it.shutdown() } }
        nodes.forEach { it.close() }
        dirs.forEach { it.toFile().deleteRecursively() }
    }

    @Test
    fun createListEditAccept() {
        val alex = newAlex()
        val info = alex.info()
        assertEquals(1, info.partners.size)
        assertEquals("Alex", info.partners[0].name)

        val id = alex.createAgreement(proposal("Phones away at dinner"))
        val list = alex.list(null)
        assertEquals(listOf(id), list.map { it.id })
        assertEquals("Phones away at dinner", list[0].title)
        assertEquals(Kind.AGREEMENT, list[0].kind)

        alex.editAgreement(id, AgreementEdit(title = "Phones away at every meal"))
        assertEquals("Phones away at every meal", alex.agreement(id).summary.title)

        alex.accept(id)
        val details = alex.agreement(id)
        assertTrue(details.summary.acceptedBy.contains(info.me), "accepted by Alex: ${details.summary.acceptedBy}")
        assertTrue(details.acceptances.any { it.partner == info.me && it.current })
        val history = alex.history(id)
        assertEquals(listOf("created", "edited"), history.map { it.action }.take(2), "history: $history")
        assertEquals("Phones away at every meal", history[1].changes.first { it.field == Field.TITLE }.now)

        val agenda = alex.agenda(System.currentTimeMillis())
        assertTrue(agenda.appreciationPrompt.isNotEmpty())
    }

    @Test
    fun exportJsonHoldsEveryAgreement() {
        val alex = newAlex()
        alex.createAgreement(proposal("Exported words"))
        val json = alex.exportJson()
        assertTrue(json.contains("Exported words"), json)
        assertTrue(json.trim().startsWith("["), json)
    }

    @Test
    fun unknownIdRaisesKotlinExceptionWithMessage() {
        val alex = newAlex()
        val e = assertThrows<AccordException.NotFound> { alex.agreement("does-not-exist") }
        assertNotNull(e.message)
        assertTrue(e.message!!.contains("does-not-exist"), e.message)

        val bad = assertThrows<AccordException.InvalidInput> { alex.recordCheckin("not a date", "notes") }
        assertTrue(bad.message!!.contains("YYYY-MM-DD"), bad.message)
    }

    @Test
    fun panicSurfacesAsException() {
        val e = assertThrows<Exception> { debugPanic() }
        assertTrue(e.message?.contains("deliberate panic") == true, "message: ${e.message}")
    }

    @Test
    fun twoNodesPairAndConvergeWithRemoteEvent() = runBlocking<Unit> {
        val alex = newAlex()
        alex.createAgreement(proposal("Weekly check-in"))

        val remoteChange = CountDownLatch(1)
        val sub = alex.subscribe(object : NodeListener {
            override fun onEvent(event: NodeEventRecord) {
                if (event is NodeEventRecord.DocumentChanged && event.remote) remoteChange.countDown()
            }
        })

        val ticket = alex.invite(InviteRole.PARTNER, 10u)
        val sam = AccordNode.join(
            tempDir().resolve("sam").toString(), ticket, "Sam", "America/New_York", "Sam's laptop", NetworkMode.LOOPBACK,
        ).also { nodes.add(it) }

        assertEquals(2, sam.info().partners.size)
        assertEquals(listOf("Weekly check-in"), sam.list(null).map { it.title })

        val samsId = sam.createAgreement(proposal("Dishes the same evening"))
        val report = sam.syncNow(15_000uL)
        assertTrue(report.converged.contains(alex.deviceId()), "report: $report")
        assertTrue(remoteChange.await(15, TimeUnit.SECONDS), "Alex's listener got a remote DocumentChanged")
        assertTrue(alex.list(null).any { it.id == samsId })

        alex.accept(samsId)
        sam.accept(samsId)
        alex.syncNow(15_000uL)
        assertEquals(Status.ACTIVE, alex.agreement(samsId).summary.status)
        assertEquals(Status.ACTIVE, sam.agreement(samsId).summary.status)

        val ruleId = alex.addCommitmentRule(
            samsId,
            RecurrenceRule(Frequency.Weekly(1u, listOf(Weekday.FRIDAY)), "19:00", "Europe/Berlin", "2026-01-02", null),
            null,
        )
        assertTrue(ruleId.isNotEmpty())
        val reminders = alex.upcomingReminders(System.currentTimeMillis(), 5u, 30u)
        assertTrue(reminders.any { it.kind == ReminderKind.COMMITMENT && it.target == ReminderTarget.Agreement(samsId) }, "reminders: $reminders")
        alex.markReminderDone(reminders.first { it.kind == ReminderKind.COMMITMENT }.id)
        sub.cancel()
    }

    @Test
    fun cancellingACoroutineMidSyncLeavesTheStoreConsistent() = runBlocking<Unit> {
        val alex = newAlex()
        val ticket = alex.invite(InviteRole.PARTNER, 10u)
        val sam = AccordNode.join(
            tempDir().resolve("sam").toString(), ticket, "Sam", "UTC", "Sam's phone", NetworkMode.LOOPBACK,
        ).also { nodes.add(it) }
        val ids = (1..60).map { sam.createAgreement(proposal("Offline agreement $it")) }

        // Start a sync and cancel the coroutine while it runs: the work finishes or not, whole.
        val call = async { sam.syncNow(15_000uL) }
        delay(3)
        call.cancel()
        val afterCancel = alex.list(null).map { it.id }.toSet()
        assertTrue(afterCancel.all { it in ids }, "only Sam's agreements can have arrived")

        // A later sync brings everything, once: nothing lost, nothing duplicated.
        val report = sam.syncNow(15_000uL)
        assertTrue(report.converged.contains(alex.deviceId()), "report: $report")
        var titles = alex.list(null).map { it.title }
        val deadline = System.currentTimeMillis() + 10_000
        while (titles.size < ids.size && System.currentTimeMillis() < deadline) {
            delay(20)
            titles = alex.list(null).map { it.title }
        }
        assertEquals(ids.size, titles.size)
        assertEquals(ids.size, titles.toSet().size)
        assertEquals(ids.toSet(), alex.list(null).map { it.id }.toSet())
    }

    @Test
    fun listenerMayCallBackIntoTheNode() {
        val alex = newAlex()
        val seen = CopyOnWriteArrayList<Int>()
        val done = CountDownLatch(1)
        val sub = alex.subscribe(object : NodeListener {
            override fun onEvent(event: NodeEventRecord) {
                if (event is NodeEventRecord.DocumentChanged) {
                    seen.add(alex.list(null).size) // re-enters the node inside the callback
                    done.countDown()
                }
            }
        })
        alex.createAgreement(proposal("No deadlock"))
        assertTrue(done.await(10, TimeUnit.SECONDS), "callback ran and could call the node")
        assertEquals(1, seen.first())
        // The node still answers from this thread too.
        assertEquals(1, alex.list(null).size)
        sub.cancel()
    }

    @Test
    fun cancelStopsDelivery() {
        val alex = newAlex()
        val count = AtomicInteger()
        val first = CountDownLatch(1)
        val sub = alex.subscribe(object : NodeListener {
            override fun onEvent(event: NodeEventRecord) {
                count.incrementAndGet()
                first.countDown()
            }
        })
        alex.createAgreement(proposal("Before cancel"))
        assertTrue(first.await(10, TimeUnit.SECONDS))
        Thread.sleep(300)
        sub.cancel()
        assertTrue(sub.isCancelled())
        val before = count.get()
        alex.createAgreement(proposal("After cancel"))
        Thread.sleep(700)
        assertEquals(before, count.get())
        assertFalse(alex.list(null).isEmpty())
    }

    @Test
    fun asyncCallsFromCoroutines() = runBlocking<Unit> {
        val alex = newAlex()
        val report = alex.syncNow(1_000uL) // no partner yet: nothing to sync
        assertTrue(report.converged.isEmpty())
        val reminders = alex.upcomingReminders(System.currentTimeMillis(), 10u, 30u)
        assertNotNull(reminders)
        alex.shutdown()
        assertThrows<AccordException.NotAllowed> { alex.list(null) }
    }

    @Test
    fun aBackgroundJobEditsAndAcceptsWithoutTheNode() = runBlocking<Unit> {
        val dir = tempDir().resolve("alex").toString()
        val alex = AccordNode.create(dir, "Alex", "Europe/Berlin", "Alex's phone", NetworkMode.LOOPBACK)
        val draft = alex.createAgreement(proposal("Draft rule").copy(draft = true))
        val proposed = alex.createAgreement(proposal("Phones away at dinner"))
        val me = alex.info().me
        val concern = alex.raiseConcern(NewConcern(proposed, "Phone at dinner", "ignored", "a plan"))
        // While the node has the space, a background job cannot open it.
        assertThrows<AccordException.InUse> { AccordLocalSpace.open(dir) }
        alex.shutdown()
        alex.close()

        val job = AccordLocalSpace.open(dir)
        assertEquals(me, job.info().me)
        assertEquals(setOf(draft, proposed), job.list(null).map { it.id }.toSet())
        assertNotNull(job.upcomingReminders(System.currentTimeMillis(), 10u, 30u))
        job.editAgreement(proposed, AgreementEdit(details = "Phones in the drawer"))
        job.accept(draft)
        assertEquals(Status.PROPOSED, job.list(null).first { it.id == draft }.status)
        assertThrows<AccordException.InvalidInput> { job.editAgreement(proposed, AgreementEdit(title = " ")) }
        assertThrows<AccordException.NotFound> { job.accept("no-such-id") }
        // A notification's "missed" action logs without the node; it is on the next check-in.
        val missed = job.logFollowThrough(proposed, LogKind.MISSED, "Phone at the table")
        val agenda = job.agenda(System.currentTimeMillis())
        assertEquals(listOf(missed), agenda.missedSinceLastCheckin.map { it.id })
        assertThrows<AccordException.NotFound> { job.logFollowThrough("no-such-id", LogKind.KEPT, "") }
        // The check-in reminder's action: a check-in held starts the missed list afresh.
        val held = job.recordCheckin("2026-11-30", "Talked it through")
        assertEquals(emptyList<LogEntry>(), job.agenda(System.currentTimeMillis()).missedSinceLastCheckin)
        assertThrows<AccordException.InvalidInput> { job.recordCheckin("30.11.2026", "") }
        // Repair from a notification: the one who raised it cannot acknowledge it, but answers
        // and resolves it.
        assertThrows<AccordException.NotAllowed> { job.acknowledgeConcern(concern) }
        job.respondToConcern(concern, "Phones in the drawer from now on")
        job.resolveConcern(concern)
        assertEquals(emptyList<Concern>(), job.agenda(System.currentTimeMillis()).openConcerns)
        // Going to the background: the cache is saved now (a job may be killed any time).
        job.flush()
        job.shutdown()
        assertThrows<AccordException.NotAllowed> { job.list(null) }
        assertThrows<AccordException.NotAllowed> { job.flush() }
        job.close()

        // The node sees what the job wrote.
        val again = AccordNode.open(dir, NetworkMode.LOOPBACK).also { nodes.add(it) }
        assertEquals("Phones in the drawer", again.agreement(proposed).details)
        assertTrue(again.agreement(draft).summary.acceptedBy.contains(me))
        assertEquals(
            listOf("created", "raised a concern", "edited", "logged follow-through", "concern step", "concern step"),
            again.history(proposed).map { it.action },
        )
        assertEquals(listOf("Phone at the table"), again.followThrough(proposed).map { it.text })
        assertEquals(listOf(held), again.checkins().map { it.id })
        assertEquals(ConcernState.RESOLVED, again.concerns().single { it.id == concern }.state)
        again.flush()
    }

    @Test
    fun concernsFollowThroughRemindersAndPositions() {
        val alex = newAlex()
        val id = alex.createAgreement(proposal("Date night"))
        val concernId = alex.raiseConcern(NewConcern(id, "We skipped it", "sad", "plan it together"))
        val concern = alex.concerns().single()
        assertEquals(concernId, concern.id)
        assertEquals(ConcernState.OPEN, concern.state)

        alex.logFollowThrough(id, LogKind.KEPT, "We went out")
        assertEquals(listOf(LogKind.KEPT), alex.followThrough(id).map { it.kind })

        // Commitments remind only for active agreements (see the two-node test); none yet here.
        assertTrue(alex.upcomingReminders(System.currentTimeMillis(), 5u, 30u).none { it.kind == ReminderKind.COMMITMENT })

        alex.writePosition("holidays", "Sea, please")
        assertEquals(PositionState.DRAFT, alex.positions("holidays").single().state)
        alex.recordCheckin("2026-11-20", "Good talk")
        assertEquals("2026-11-20", alex.checkins().single().heldOn)
    }
}
