package org.accord.desktop

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.runBlocking
import org.accord.app.agreements.AgreementsHolder
import org.accord.app.core.RustCore
import org.accord.app.detail.AgreementDetailHolder
import org.accord.core.Status
import org.accord.ffi.AccordNode
import org.accord.ffi.NetworkMode
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import java.nio.file.Files

/** The state holders against the real library, through a node on loopback. */
class RealCoreTest {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    private val dir = Files.createTempDirectory("accord-desktop-test")
    private val node = runBlocking {
        AccordNode.create(dir.resolve("alex").toString(), "Alex", "Europe/Berlin", "laptop", NetworkMode.LOOPBACK)
    }

    @After
    fun tearDown() {
        scope.cancel()
        runBlocking { node.shutdown() }
        node.close()
        dir.toFile().deleteRecursively()
    }

    @Test
    fun rewritesMadeOfflineOnBothDevicesShowAsAConflictUntilWrittenIntoOne() {
        val alex = RustCore(node)
        val ticket = runBlocking { alex.invite(org.accord.core.InviteRole.PARTNER) }
        val samDir = dir.resolve("sam").toString()
        val joined = runBlocking { AccordNode.join(samDir, ticket, "Sam", "UTC", "phone", NetworkMode.LOOPBACK) }
        val id = runBlocking {
            alex.createAgreement(
                proposal("Dishes before bed", org.accord.core.StandardCategory.HOUSEHOLD, org.accord.core.Strength.TRY_MY_BEST),
            )
        }
        runBlocking {
            joined.syncNow(10_000u)
            joined.shutdown() // Sam's phone goes offline
        }
        joined.close()
        // Alex rewrites while Sam is offline; Sam rewrites offline too.
        val alexDetail = AgreementDetailHolder(alex, id, scope)
        alexDetail.state.awaitState { !it.loading }
        alexDetail.edit("Dishes before bed, every night", "")
        alexDetail.state.awaitState { it.details?.summary?.title == "Dishes before bed, every night" }
        val samNode = runBlocking { AccordNode.open(samDir, NetworkMode.LOOPBACK) }
        try {
            val sam = RustCore(samNode)
            val samDetail = AgreementDetailHolder(sam, id, scope)
            samDetail.state.awaitState { it.details?.summary?.title == "Dishes before bed" }
            samDetail.edit("Dishes by the next morning", "")
            samDetail.state.awaitState { it.details?.summary?.title == "Dishes by the next morning" }
            // They meet: both see two versions, and no one can accept either.
            runBlocking { samNode.syncNow(10_000u) }
            val conflicted = alexDetail.state.awaitState { it.details?.conflicts?.isNotEmpty() == true }
            assertEquals(Status.CONFLICTED, conflicted.details!!.summary.status)
            val versions = conflicted.details!!.conflicts.single().candidates.map { it.value }.sorted()
            assertEquals(listOf("Dishes before bed, every night", "Dishes by the next morning"), versions)
            assertTrue("no one accepts a conflict", !conflicted.canAccept)
            samDetail.state.awaitState { it.details?.conflicts?.isNotEmpty() == true }
            // Alex writes both into one version (empty words are refused first); after a sync
            // both see that one wording, to accept again.
            alexDetail.choose(org.accord.core.Field.TITLE, "  ")
            alexDetail.state.awaitState { it.error == org.accord.app.Words.EMPTY_TITLE }
            val merged = "Dishes before bed on weekdays, by the next morning on weekends"
            alexDetail.choose(org.accord.core.Field.TITLE, merged)
            alexDetail.state.awaitState { it.details?.conflicts?.isEmpty() == true }
            runBlocking { samNode.syncNow(10_000u) }
            val settled = samDetail.state.awaitState {
                it.details?.conflicts?.isEmpty() == true && it.details?.summary?.title == merged
            }
            assertTrue(settled.canAccept)
        } finally {
            runBlocking { samNode.shutdown() }
            samNode.close()
        }
    }

    @Test
    fun positionsStaySealedUntilBothAreReadyAndNewWordsShowWhatChangedSinceIAccepted() {
        val alex = RustCore(node)
        val ticket = runBlocking { alex.invite(org.accord.core.InviteRole.PARTNER) }
        val samNode = runBlocking {
            AccordNode.join(dir.resolve("sam").toString(), ticket, "Sam", "UTC", "phone", NetworkMode.LOOPBACK)
        }
        try {
            node.keepConnected()
            samNode.keepConnected()
            val sam = RustCore(samNode)
            val id = runBlocking {
                alex.createAgreement(
                    proposal("Dishes are done before bed", org.accord.core.StandardCategory.HOUSEHOLD, org.accord.core.Strength.TRY_MY_BEST),
                )
            }
            val alexDetail = AgreementDetailHolder(alex, id, scope)
            val samDetail = AgreementDetailHolder(sam, id, scope)
            samDetail.state.awaitState { it.details != null }
            // Positions: Alex's stays sealed on Sam's device until both are ready.
            alexDetail.writePosition("Before bed, every night")
            alexDetail.state.awaitState { s -> s.positions.any { it.text == "Before bed, every night" } }
            alexDetail.markPositionReady()
            val sealed = samDetail.state.awaitState { s -> s.positions.isNotEmpty() }
            assertEquals(listOf(null), sealed.positions.map { it.text })
            samDetail.writePosition("By the next morning is fine")
            samDetail.state.awaitState { s -> s.positions.any { it.partner == s.me && it.text != null } }
            samDetail.markPositionReady()
            val revealed = samDetail.state.awaitState { s -> s.positions.size == 2 && s.positions.all { it.text != null } }
            assertEquals(
                setOf("Before bed, every night", "By the next morning is fine"),
                revealed.positions.map { it.text }.toSet(),
            )
            alexDetail.state.awaitState { s -> s.positions.size == 2 && s.positions.all { it.text != null } }
            // Sam rewrites the words: Alex sees what changed since Alex accepted.
            samDetail.edit("Dishes are done by the next morning", "")
            val changed = alexDetail.state.awaitState { s ->
                s.details?.changesSinceAcceptance?.any { it.partner == s.me && it.changes.isNotEmpty() } == true
            }
            val change = changed.details!!.changesSinceAcceptance.first { it.partner == changed.me }.changes.single()
            assertEquals("Dishes are done before bed", change.accepted)
            assertEquals(
                listOf("Dishes are done" to "KEPT", "before bed" to "REMOVED", "by the next morning" to "ADDED"),
                change.words.map { it.text to it.change.name },
            )
            assertEquals("Dishes are done by the next morning", change.now)
            assertTrue(changed.history.size >= 2)
            // Both accept the new words: a monthly reminder (first Sunday) then shows in Alex's reminders; a
            // mistyped time is the core's message.
            alexDetail.accept()
            alexDetail.state.awaitState { it.acceptedByMe }
            samDetail.state.awaitState { it.details?.summary?.title == "Dishes are done by the next morning" && it.acceptedByMe }
            alexDetail.state.awaitState { it.details?.summary?.status == Status.ACTIVE }
            alexDetail.remind(org.accord.app.rhythm.Rhythm(org.accord.app.rhythm.Every.WEEK, "sunday", "25:00"))
            val refused = alexDetail.state.awaitState { it.error != null }.error!!
            assertTrue(refused, refused.contains("25:00"))
            alexDetail.remind(org.accord.app.rhythm.Rhythm(org.accord.app.rhythm.Every.MONTH, "first sunday", "20:00"))
            alexDetail.state.awaitState { it.rules.size == 1 }
            val reminders = org.accord.app.reminders.RemindersHolder(alex, scope)
            val upcoming = reminders.state.awaitState { it.upcoming.isNotEmpty() }.upcoming
            assertTrue(upcoming.first().firesAtLocal, upcoming.first().firesAtLocal.endsWith("T20:00:00"))
        } finally {
            runBlocking { samNode.shutdown() }
            samNode.close()
        }
    }

    @Test
    fun writingAnAgreementShowsItAndItsDetailSaysIAcceptedIt() {
        val core = RustCore(node)
        val holder = AgreementsHolder(core, scope)
        assertTrue(holder.state.awaitState { !it.loading }.empty)
        holder.create("Phones away at dinner")
        val state = holder.state.awaitState { it.sections.isNotEmpty() }
        val summary = state.sections.single().agreements.single()
        assertEquals("Phones away at dinner", summary.title)
        assertEquals(Status.PROPOSED, summary.status)
        assertTrue("nothing waits for me: I wrote it", state.waitingForMe.isEmpty())
        val detail = AgreementDetailHolder(core, summary.id, scope)
        val shown = detail.state.awaitState { !it.loading }
        assertTrue(shown.acceptedByMe)
        assertEquals(mapOf(shown.me!! to "Alex"), shown.names)
        // The core's own error reaches the screen as its message.
        val missing = AgreementDetailHolder(core, "0000dead", scope)
        val error = missing.state.awaitState { it.error != null }.error!!
        assertTrue(error, error.contains("0000dead"))
    }

    @Test
    fun reopeningWithAnotherNetworkModeKeepsTheSpaceAndTheExportReadsIt() {
        val spaces = org.accord.app.core.RustSpaces(dir.resolve("sam").toString(), NetworkMode.LOOPBACK, "phone")
        val first = runBlocking { spaces.create("Sam", "Europe/Berlin") }
        runBlocking {
            first.createAgreement(
                proposal("Phones away at dinner", org.accord.core.StandardCategory.TIME_TOGETHER, org.accord.core.Strength.PROMISE),
            )
        }
        val again = runBlocking { spaces.reopen(first, NetworkMode.LOCAL) }
        try {
            val markdown = runBlocking { again.exportMarkdown() }
            assertTrue(markdown, markdown.contains("### Phones away at dinner"))
            assertTrue(markdown, markdown.contains("**Accepted by:** Sam"))
            // The first node is shut down: using it is an error, not a crash.
            val refused = runCatching { runBlocking { first.agreements() } }
            assertTrue(refused.isFailure)
        } finally {
            runBlocking { (again as RustCore).node.shutdown() }
        }
    }

    @Test
    fun aCheckInRhythmSetOnTheScreenRemindsUsInMyTimeZone() {
        val alex = RustCore(node)
        val checkin = org.accord.app.checkin.CheckinHolder(alex, scope)
        checkin.state.awaitState { !it.loading }
        checkin.setRitual(org.accord.app.rhythm.Rhythm(org.accord.app.rhythm.Every.MONTH, "last friday", "18:30"))
        val set = checkin.state.awaitState { it.ritual != null }
        assertEquals("Every month on the last Friday at 18:30, Europe/Berlin", org.accord.app.rhythm.Rhythm.describe(set.ritual!!))
        val reminders = org.accord.app.reminders.RemindersHolder(alex, scope)
        val upcoming = reminders.state.awaitState { it.upcoming.isNotEmpty() }.upcoming
        val first = java.time.LocalDateTime.parse(upcoming.first().firesAtLocal)
        assertEquals(java.time.DayOfWeek.FRIDAY, first.dayOfWeek)
        assertTrue("the last Friday of its month", first.plusWeeks(1).month != first.month)
        assertEquals(java.time.LocalTime.of(18, 30), first.toLocalTime())
    }

    @Test
    fun syncNowSaysWhichDeviceHasEverythingAndWhichCouldNotBeReachedAndKeepsWhatWasWritten() {
        val alex = RustCore(node)
        val ticket = runBlocking { alex.invite(org.accord.core.InviteRole.PARTNER) }
        val samNode = runBlocking {
            AccordNode.join(dir.resolve("sam").toString(), ticket, "Sam", "UTC", "Sam's phone", NetworkMode.LOOPBACK)
        }
        val devices = org.accord.app.devices.DevicesHolder(alex, scope, TestSettings(), {}, syncTimeoutMs = 3_000)
        devices.state.awaitState { it.info?.devices?.size == 2 }
        devices.syncNow()
        val synced = devices.state.awaitState { it.syncOutcome != null && !it.syncing }
        assertEquals("Synced: Sam's phone has everything.", synced.syncOutcome)
        // Sam's phone goes away; Alex writes and syncs: a message, and the words stay.
        runBlocking { samNode.shutdown() }
        samNode.close()
        runBlocking {
            alex.createAgreement(
                proposal("Phones away at dinner", org.accord.core.StandardCategory.TIME_TOGETHER, org.accord.core.Strength.PROMISE),
            )
        }
        devices.syncNow()
        val missed = devices.state.awaitState { it.syncOutcome != null && !it.syncing }
        assertTrue(missed.syncOutcome!!, missed.syncOutcome!!.startsWith("Could not reach Sam's phone now."))
        assertEquals(null, missed.error)
        assertEquals(listOf("Phones away at dinner"), runBlocking { alex.agreements() }.map { it.title })
        assertEquals(false, missed.hasAllMyChanges.values.single())
    }
}
