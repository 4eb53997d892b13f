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
import org.accord.core.*
import java.nio.file.Files
import java.nio.file.Path
import java.time.Instant
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
        category = Category.Standard(StandardCategory.COMMUNICATION),
        kind = Kind.AGREEMENT,
        strength = Strength.PROMISE,
        concerns = Concerns.Both,
    )

    /** Every agreement, unfiltered. */
    private val all = ListFilter()

    @AfterEach
    fun tearDown() {
        runBlocking { nodes.forEach { it.shutdown() } }
        nodes.forEach { it.close() }
        dirs.forEach { it.toFile().deleteRecursively() }
    }

    @Test
    fun createListEditAccept() {
        val alex = newAlex()
        val info = alex.space().info()
        assertEquals(1, info.partners.size)
        assertEquals("Alex", info.partners[0].name)

        val id = alex.space().createAgreement(proposal("Phones away at dinner"))
        val list = alex.space().list(all)
        assertEquals(listOf(id), list.map { it.id })
        assertEquals("Phones away at dinner", list[0].title)
        assertEquals(Kind.AGREEMENT, list[0].kind)

        alex.space().editAgreement(id, AgreementEdit(title = "Phones away at every meal"))
        assertEquals("Phones away at every meal", alex.space().agreement(id).summary.title)

        alex.space().accept(id)
        val details = alex.space().agreement(id)
        assertTrue(details.summary.acceptedBy.contains(info.me), "accepted by Alex: ${details.summary.acceptedBy}")
        assertTrue(details.acceptances.any { it.partner == info.me && it.current })
        val history = alex.space().history(id)
        assertEquals(listOf("created", "edited"), history.map { it.action }.take(2), "history: $history")
        assertEquals("Phones away at every meal", history[1].changes.first { it.field == Field.TITLE }.now)

        val agenda = alex.space().agenda(Instant.now())
        assertTrue(agenda.appreciationPrompt.isNotEmpty())
    }

    @Test
    fun theExportHoldsEveryAgreementAsMarkdownAndAsJson() {
        val alex = newAlex()
        alex.space().createAgreement(proposal("Exported words"))
        val markdown = alex.space().exportMarkdown()
        assertTrue(markdown.startsWith("# Our agreements"), markdown)
        assertTrue(markdown.contains("### Exported words"), markdown)
        val json = alex.space().exportJson()
        assertTrue(json.contains("\"title\": \"Exported words\""), json)
        assertTrue(json.trim().startsWith("{"), json)
    }

    @Test
    fun aBackupRestoresWithTheRecoverySecretAloneForReading() {
        val alex = newAlex()
        assertFalse(alex.space().info().partners[0].hasRecovery)
        val secret = alex.space().setUpRecovery()
        assertEquals(44, secret.length, secret)
        assertTrue(alex.space().info().partners[0].hasRecovery)
        alex.space().createAgreement(proposal("Phones away at dinner"))
        val backup: ByteArray = alex.space().exportBackup()
        assertFalse(String(backup, Charsets.ISO_8859_1).contains("Phones away"))

        val newPhone = tempDir().resolve("restored").toString()
        val wrong = assertThrows<AccordException.InvalidInput> {
            AccordLocalSpace.restoreBackup(newPhone, backup, "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA")
        }
        assertTrue(wrong.message!!.contains("recovery secret"), wrong.message)
        val restored = AccordLocalSpace.restoreBackup(newPhone, backup, secret.lowercase())
        try {
            assertEquals(listOf("Phones away at dinner"), restored.space().list(all).map { it.title })
            assertTrue(restored.space().info().readOnly!!.contains("restored"))
            assertThrows<AccordException.NotAllowed> { restored.space().createAgreement(proposal("New")) }
        } finally {
            restored.shutdown()
            restored.close()
        }
    }

    @Test
    fun unknownIdRaisesKotlinExceptionWithMessage() {
        val alex = newAlex()
        val e = assertThrows<AccordException.NotFound> { alex.space().agreement("0000dead") }
        assertNotNull(e.message)
        assertTrue(e.message!!.contains("0000dead"), e.message)
    }

    @Test
    fun malformedInputFromKotlinIsTheApisOwnError() {
        val space = newAlex().space()
        // Each of these fails while uniffi lifts the argument, before any Rust code runs.
        val badId = assertThrows<AccordException.InvalidInput> { space.agreement("does-not-exist!") }
        assertTrue(badId.message!!.contains("agreement id") && badId.message!!.contains("does-not-exist!"), badId.message)
        assertThrows<AccordException.InvalidInput> { space.acknowledgeConcern("") }
        val badDate = assertThrows<AccordException.InvalidInput> { space.recordCheckin("2026-02-30", "notes") }
        assertTrue(badDate.message!!.contains("YYYY-MM-DD"), badDate.message)
        assertThrows<AccordException.InvalidInput> { space.recordCheckin("30.11.2026", "") }
        val farFuture = assertThrows<AccordException.InvalidInput> { space.agenda(Instant.ofEpochMilli(Long.MAX_VALUE)) }
        assertTrue(farFuture.message!!.contains("instant"), farFuture.message)
        // Inside a record: a time of day that does not exist.
        val id = space.createAgreement(proposal("Walks"))
        val badTime = assertThrows<AccordException.InvalidInput> {
            space.addCommitmentRule(
                id,
                RecurrenceRule(Frequency.Daily(1u), "25:00", "Europe/Berlin", "2026-01-02", null),
                null,
            )
        }
        assertTrue(badTime.message!!.contains("HH:MM"), badTime.message)
        // A rule the core itself refuses (an unknown time zone) is the same kind of error.
        assertThrows<AccordException.InvalidInput> {
            space.addCommitmentRule(id, RecurrenceRule(Frequency.Daily(1u), "07:00", "Mars/Olympus", "2026-01-02", null), null)
        }
        // Nothing was written by the refused calls.
        assertEquals(listOf("Walks"), space.list(all).map { it.title })
        assertEquals(emptyList<CheckIn>(), space.checkins())
    }

    @Test
    fun derivedTypesRoundTrip() {
        val space = newAlex().space()
        val me = space.info().me
        val before = Instant.now().minusSeconds(5)
        val id = space.createAgreement(
            NewAgreement(
                title = "Garden on Saturdays",
                details = "Two hours, together",
                category = Category.Custom("Garden"),
                kind = Kind.INTENTION,
                strength = Strength.EXPERIMENT,
                concerns = Concerns.Partner(me),
                reviewEvery = ReviewCadence(3u, CadenceUnit.MONTHS),
            ),
        )
        val details = space.agreement(id)
        assertEquals(Category.Custom("Garden"), details.summary.category)
        assertEquals("Garden", categoryLabel(details.summary.category))
        assertEquals("time together", categoryLabel(Category.Standard(StandardCategory.TIME_TOGETHER)))
        assertEquals(StandardCategory.COMMUNICATION, standardCategories().first())
        assertEquals(Kind.INTENTION, details.summary.kind)
        assertEquals(Strength.EXPERIMENT, details.summary.strength)
        assertEquals(Concerns.Partner(me), details.summary.concerns)
        assertEquals(ReviewCadence(3u, CadenceUnit.MONTHS), details.reviewEvery)
        assertTrue(details.summary.createdAt.isAfter(before) && details.summary.createdAt.isBefore(Instant.now().plusSeconds(5)))
        assertEquals(me, details.createdBy)

        space.editAgreement(id, AgreementEdit(reviewEvery = CadenceChange.Remove, nextReview = "2027-01-15"))
        val edited = space.agreement(id)
        assertEquals(null, edited.reviewEvery)
        assertEquals("2027-01-15", edited.summary.nextReview)
        space.editAgreement(id, AgreementEdit(reviewEvery = CadenceChange.Set(ReviewCadence(2u, CadenceUnit.WEEKS)), category = Category.Standard(StandardCategory.HOUSEHOLD)))
        assertEquals(ReviewCadence(2u, CadenceUnit.WEEKS), space.agreement(id).reviewEvery)
        assertEquals(listOf(id), space.list(ListFilter(category = Category.Standard(StandardCategory.HOUSEHOLD))).map { it.id })
        assertEquals(emptyList<AgreementSummary>(), space.list(ListFilter(status = Status.ACTIVE)))

        val rule = RecurrenceRule(
            Frequency.MonthlyOnWeekday(1u, WeekOfMonth.SECOND, Weekday.TUESDAY), "07:30", "Europe/Berlin", "2026-01-01", "2027-12-31",
        )
        space.setCheckinRitual(rule)
        assertEquals(rule, space.checkinRitual())
        val checkIn = space.upcomingReminders(Instant.parse("2026-12-01T00:00:00Z"), 1u, 60u).single()
        assertEquals(ReminderKind.CHECK_IN, checkIn.kind)
        assertEquals(ReminderTarget.CheckIn, checkIn.target)
        assertEquals("2026-12-08T07:30:00", checkIn.firesAtLocal)
        assertEquals(Instant.parse("2026-12-08T06:30:00Z"), checkIn.firesAtUtc)
    }

    /** The calls a screen makes, the same on a node's space and on a background job's. */
    private fun writeAndReadThrough(space: AccordSpace, title: String): AgreementId {
        val id = space.createAgreement(proposal(title))
        space.accept(id)
        space.logFollowThrough(id, LogKind.KEPT, "kept it")
        assertEquals(listOf(LogKind.KEPT), space.followThrough(id).map { it.kind })
        assertTrue(space.list(all).any { it.id == id && it.acceptedBy == listOf(space.info().me) })
        return id
    }

    @Test
    fun oneDomainObjectFromBothEntryPoints() = runBlocking<Unit> {
        val dir = tempDir().resolve("alex").toString()
        val node = AccordNode.create(dir, "Alex", "Europe/Berlin", "Alex's phone", NetworkMode.LOOPBACK)
        val viaNode = writeAndReadThrough(node.space(), "Through the node")
        node.shutdown()
        node.close()

        val job = AccordLocalSpace.open(dir)
        val viaJob = writeAndReadThrough(job.space(), "Through a background job")
        assertEquals(setOf(viaNode, viaJob), job.space().list(all).map { it.id }.toSet())
        val kept = job.space()
        job.shutdown()
        // A space handed out before the shutdown refuses afterwards; it does not reopen.
        assertThrows<AccordException.NotAllowed> { kept.list(all) }
        job.close()
    }

    @Test
    fun panicSurfacesAsException() {
        val e = assertThrows<Exception> { debugPanic() }
        assertTrue(e.message?.contains("deliberate panic") == true, "message: ${e.message}")
    }

    @Test
    fun twoNodesPairAndConvergeWithRemoteEvent() = runBlocking<Unit> {
        val alex = newAlex()
        alex.space().createAgreement(proposal("Weekly check-in"))

        val remoteChange = CountDownLatch(1)
        val sub = alex.subscribe(object : NodeListener {
            override fun onEvent(event: NodeEvent) {
                if (event is NodeEvent.DocumentChanged && event.remote) remoteChange.countDown()
            }
        })

        val ticket = alex.invite(InviteRole.PARTNER, 10u)
        val sam = AccordNode.join(
            tempDir().resolve("sam").toString(), ticket, "Sam", "America/New_York", "Sam's laptop", NetworkMode.LOOPBACK,
        ).also { nodes.add(it) }

        assertEquals(2, sam.space().info().partners.size)
        assertEquals(listOf("Weekly check-in"), sam.space().list(all).map { it.title })

        val samsId = sam.space().createAgreement(proposal("Dishes the same evening"))
        val report = sam.syncNow(15_000uL)
        assertTrue(report.converged.contains(alex.deviceId()), "report: $report")
        assertTrue(remoteChange.await(15, TimeUnit.SECONDS), "Alex's listener got a remote DocumentChanged")
        assertTrue(alex.space().list(all).any { it.id == samsId })

        alex.space().accept(samsId)
        sam.space().accept(samsId)
        alex.syncNow(15_000uL)
        assertEquals(Status.ACTIVE, alex.space().agreement(samsId).summary.status)
        assertEquals(Status.ACTIVE, sam.space().agreement(samsId).summary.status)

        val ruleId = alex.space().addCommitmentRule(
            samsId,
            RecurrenceRule(Frequency.Weekly(1u, listOf(Weekday.FRIDAY)), "19:00", "Europe/Berlin", "2026-01-02", null),
            null,
        )
        assertTrue(ruleId.isNotEmpty())
        val reminders = alex.space().upcomingReminders(Instant.now(), 5u, 30u)
        assertTrue(reminders.any { it.kind == ReminderKind.COMMITMENT && it.target == ReminderTarget.Agreement(samsId) }, "reminders: $reminders")
        alex.space().markReminderDone(reminders.first { it.kind == ReminderKind.COMMITMENT }.id)
        sub.cancel()
    }

    @Test
    fun syncStatusSaysWhichDeviceHasAllMyChanges() = runBlocking<Unit> {
        val alex = newAlex()
        val statusChanged = CountDownLatch(1)
        val sub = alex.subscribe(object : NodeListener {
            override fun onEvent(event: NodeEvent) {
                if (event is NodeEvent.SyncStatusChanged) statusChanged.countDown()
            }
        })
        val samDir = tempDir().resolve("sam").toString()
        val ticket = alex.invite(InviteRole.PARTNER, 10u)
        val sam = AccordNode.join(samDir, ticket, "Sam", "UTC", "Sam's phone", NetworkMode.LOOPBACK)
        val samsDevice = sam.deviceId()
        assertTrue(alex.syncNow(15_000uL).converged.contains(samsDevice))
        assertEquals(listOf(true), alex.syncStatus().map { it.hasAllMyChanges })
        assertTrue(statusChanged.await(10, TimeUnit.SECONDS), "a SyncStatusChanged event")

        // Sam's phone is off: what Alex writes now waits for it.
        sam.shutdown()
        sam.close()
        alex.space().createAgreement(proposal("Written while Sam was away"))
        val waiting = alex.syncStatus().single()
        assertEquals(samsDevice, waiting.device)
        assertEquals("Sam's phone", waiting.name)
        assertFalse(waiting.hasAllMyChanges)

        val back = AccordNode.open(samDir, NetworkMode.LOOPBACK).also { nodes.add(it) }
        assertTrue(alex.syncNow(15_000uL).converged.contains(samsDevice))
        assertEquals(listOf(true), alex.syncStatus().map { it.hasAllMyChanges })
        assertTrue(back.space().list(all).any { it.title == "Written while Sam was away" })
        sub.cancel()
    }

    @Test
    fun cancellingACoroutineMidSyncLeavesTheStoreConsistent() = runBlocking<Unit> {
        val alex = newAlex()
        val ticket = alex.invite(InviteRole.PARTNER, 10u)
        val sam = AccordNode.join(
            tempDir().resolve("sam").toString(), ticket, "Sam", "UTC", "Sam's phone", NetworkMode.LOOPBACK,
        ).also { nodes.add(it) }
        val ids = (1..60).map { sam.space().createAgreement(proposal("Offline agreement $it")) }

        // Start a sync and cancel the coroutine while it runs: the work finishes or not, whole.
        val call = async { sam.syncNow(15_000uL) }
        delay(3)
        call.cancel()
        val afterCancel = alex.space().list(all).map { it.id }.toSet()
        assertTrue(afterCancel.all { it in ids }, "only Sam's agreements can have arrived")

        // A later sync brings everything, once: nothing lost, nothing duplicated.
        val report = sam.syncNow(15_000uL)
        assertTrue(report.converged.contains(alex.deviceId()), "report: $report")
        var titles = alex.space().list(all).map { it.title }
        val deadline = System.currentTimeMillis() + 10_000
        while (titles.size < ids.size && System.currentTimeMillis() < deadline) {
            delay(20)
            titles = alex.space().list(all).map { it.title }
        }
        assertEquals(ids.size, titles.size)
        assertEquals(ids.size, titles.toSet().size)
        assertEquals(ids.toSet(), alex.space().list(all).map { it.id }.toSet())
    }

    @Test
    fun listenerMayCallBackIntoTheNode() {
        val alex = newAlex()
        val seen = CopyOnWriteArrayList<Int>()
        val done = CountDownLatch(1)
        val sub = alex.subscribe(object : NodeListener {
            override fun onEvent(event: NodeEvent) {
                if (event is NodeEvent.DocumentChanged) {
                    seen.add(alex.space().list(all).size) // re-enters the node inside the callback
                    done.countDown()
                }
            }
        })
        alex.space().createAgreement(proposal("No deadlock"))
        assertTrue(done.await(10, TimeUnit.SECONDS), "callback ran and could call the node")
        assertEquals(1, seen.first())
        // The node still answers from this thread too.
        assertEquals(1, alex.space().list(all).size)
        sub.cancel()
    }

    @Test
    fun cancelStopsDelivery() {
        val alex = newAlex()
        val count = AtomicInteger()
        val first = CountDownLatch(1)
        val sub = alex.subscribe(object : NodeListener {
            override fun onEvent(event: NodeEvent) {
                count.incrementAndGet()
                first.countDown()
            }
        })
        alex.space().createAgreement(proposal("Before cancel"))
        assertTrue(first.await(10, TimeUnit.SECONDS))
        Thread.sleep(300)
        sub.cancel()
        assertTrue(sub.isCancelled())
        val before = count.get()
        alex.space().createAgreement(proposal("After cancel"))
        Thread.sleep(700)
        assertEquals(before, count.get())
        assertFalse(alex.space().list(all).isEmpty())
    }

    @Test
    fun asyncCallsFromCoroutines() = runBlocking<Unit> {
        val alex = newAlex()
        val report = alex.syncNow(1_000uL) // no partner yet: nothing to sync
        assertTrue(report.converged.isEmpty())
        val reminders = alex.space().upcomingReminders(Instant.now(), 10u, 30u)
        assertNotNull(reminders)
        alex.shutdown()
        assertThrows<AccordException.NotAllowed> { alex.space().list(all) }
    }

    @Test
    fun aBackgroundJobEditsAndAcceptsWithoutTheNode() = runBlocking<Unit> {
        val dir = tempDir().resolve("alex").toString()
        val alex = AccordNode.create(dir, "Alex", "Europe/Berlin", "Alex's phone", NetworkMode.LOOPBACK)
        val draft = alex.space().createAgreement(proposal("Draft rule").copy(draft = true))
        val proposed = alex.space().createAgreement(proposal("Phones away at dinner"))
        val me = alex.space().info().me
        val concern = alex.space().raiseConcern(NewConcern(proposed, "Phone at dinner", "ignored", "a plan"))
        // While the node has the space, a background job cannot open it.
        assertThrows<AccordException.InUse> { AccordLocalSpace.open(dir) }
        alex.shutdown()
        alex.close()

        val job = AccordLocalSpace.open(dir)
        assertEquals(me, job.space().info().me)
        assertEquals(setOf(draft, proposed), job.space().list(all).map { it.id }.toSet())
        assertNotNull(job.space().upcomingReminders(Instant.now(), 10u, 30u))
        job.space().editAgreement(proposed, AgreementEdit(details = "Phones in the drawer"))
        job.space().accept(draft)
        assertEquals(Status.PROPOSED, job.space().list(all).first { it.id == draft }.status)
        assertThrows<AccordException.InvalidInput> { job.space().editAgreement(proposed, AgreementEdit(title = " ")) }
        assertThrows<AccordException.NotFound> { job.space().accept("0000dead") }
        // A notification's "missed" action logs without the node; it is on the next check-in.
        val missed = job.space().logFollowThrough(proposed, LogKind.MISSED, "Phone at the table")
        val agenda = job.space().agenda(Instant.now())
        assertEquals(listOf(missed), agenda.missedSinceLastCheckin.map { it.id })
        assertThrows<AccordException.NotFound> { job.space().logFollowThrough("0000dead", LogKind.KEPT, "") }
        // The check-in reminder's action: a check-in held starts the missed list afresh.
        val held = job.space().recordCheckin("2026-11-30", "Talked it through")
        assertEquals(emptyList<LogEntry>(), job.space().agenda(Instant.now()).missedSinceLastCheckin)
        assertThrows<AccordException.InvalidInput> { job.space().recordCheckin("30.11.2026", "") }
        // Repair from a notification: the one who raised it cannot acknowledge it, but answers
        // and resolves it.
        assertThrows<AccordException.NotAllowed> { job.space().acknowledgeConcern(concern) }
        job.space().respondToConcern(concern, "Phones in the drawer from now on")
        job.space().resolveConcern(concern)
        assertEquals(emptyList<Concern>(), job.space().agenda(Instant.now()).openConcerns)
        // Going to the background: the cache is saved now (a job may be killed any time).
        job.space().flush()
        job.shutdown()
        assertThrows<AccordException.NotAllowed> { job.space().list(all) }
        assertThrows<AccordException.NotAllowed> { job.space().flush() }
        job.close()

        // The node sees what the job wrote.
        val again = AccordNode.open(dir, NetworkMode.LOOPBACK).also { nodes.add(it) }
        assertEquals("Phones in the drawer", again.space().agreement(proposed).details)
        assertTrue(again.space().agreement(draft).summary.acceptedBy.contains(me))
        assertEquals(
            listOf("created", "raised a concern", "edited", "logged follow-through", "concern step", "concern step"),
            again.space().history(proposed).map { it.action },
        )
        assertEquals(listOf("Phone at the table"), again.space().followThrough(proposed).map { it.text })
        assertEquals(listOf(held), again.space().checkins().map { it.id })
        assertEquals(ConcernState.RESOLVED, again.space().concerns().single { it.id == concern }.state)
        again.space().flush()
    }

    @Test
    fun concernsFollowThroughRemindersAndPositions() {
        val alex = newAlex()
        val id = alex.space().createAgreement(proposal("Date night"))
        val concernId = alex.space().raiseConcern(NewConcern(id, "We skipped it", "sad", "plan it together"))
        val concern = alex.space().concerns().single()
        assertEquals(concernId, concern.id)
        assertEquals(ConcernState.OPEN, concern.state)

        alex.space().logFollowThrough(id, LogKind.KEPT, "We went out")
        assertEquals(listOf(LogKind.KEPT), alex.space().followThrough(id).map { it.kind })

        // Commitments remind only for active agreements (see the two-node test); none yet here.
        assertTrue(alex.space().upcomingReminders(Instant.now(), 5u, 30u).none { it.kind == ReminderKind.COMMITMENT })

        alex.space().writePosition("holidays", "Sea, please")
        assertEquals(PositionState.DRAFT, alex.space().positions("holidays").single().state)
        alex.space().recordCheckin("2026-11-20", "Good talk")
        assertEquals("2026-11-20", alex.space().checkins().single().heldOn)
    }
}
