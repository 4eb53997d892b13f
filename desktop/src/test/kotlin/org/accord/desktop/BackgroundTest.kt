package org.accord.desktop

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import org.accord.app.background.Alarm
import org.accord.app.background.AlarmScheduling
import org.accord.app.background.ReminderAlarms
import org.accord.app.background.SpaceHolder
import org.accord.app.rhythm.Every
import org.accord.app.rhythm.Rhythm
import org.accord.core.LogKind
import org.accord.ffi.AccordLocalSpace
import org.accord.ffi.AccordNode
import org.accord.ffi.NetworkMode
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import java.nio.file.Files
import java.time.Duration
import java.time.Instant
import java.time.LocalDate
import java.time.ZoneId
import java.util.TimeZone

/** Alarms set by phone, in memory. */
class FakeAlarms : AlarmScheduling {
    val set = linkedMapOf<String, Pair<Alarm, Boolean>>()
    override fun scheduled() = set.keys.toSet()
    override fun set(alarm: Alarm, exact: Boolean) { set[alarm.id] = alarm to exact }
    override fun cancel(id: String) { set.remove(id) }
}

/** The Android app's background logic (plain Kotlin) against the real library. */
class BackgroundTest {
    private val dir = Files.createTempDirectory("accord-background")
    private val alexDir = dir.resolve("alex").toString()
    private val created = runBlocking { AccordNode.create(alexDir, "Alex", "Europe/Berlin", "phone", NetworkMode.LOOPBACK) }

    @After
    fun tearDown() {
        runBlocking { created.shutdown() }
        dir.toFile().deleteRecursively()
    }

    private fun at(text: String) = Instant.parse(text)

    @Test
    fun alarmsFollowTheCoresRemindersByStableIdExactOnlyWhenAllowed() = runBlocking {
        val space = created.space()
        space.setCheckinRitual(Rhythm(Every.DAY, time = "19:00").toRule("Europe/Berlin", LocalDate.parse("2027-03-25")))
        val alarms = FakeAlarms()
        var exact = false
        val reconciler = ReminderAlarms({ now -> space.upcomingReminders(now, 64u, 60u) }, alarms) { exact }
        val now = at("2027-03-25T00:00:00Z")
        val first = reconciler.reconcile(now)
        assertEquals(ReminderAlarms.Outcome(set = 60, cancelled = 0, pending = 60, exact = false), first)
        assertTrue(alarms.set.values.none { it.second })
        // Nothing changed: nothing moves.
        assertEquals(ReminderAlarms.Outcome(0, 0, 60, false), reconciler.reconcile(now))
        // The DST week: 19:00 in Berlin every day, 23 hours between the 27th and the 28th.
        val week = alarms.set.values.map { it.first.firesAt }.sorted().take(6)
        assertEquals(
            listOf(24L, 24L, 23L, 24L, 24L),
            week.zipWithNext { a, b -> Duration.between(a, b).toHours() },
        )
        assertTrue(week.all { it.atZone(ZoneId.of("Europe/Berlin")).hour == 19 })
        // Done: cancelled. A day later: refilled. Exact alarms allowed now: new ones are exact.
        val firstId = alarms.set.values.minByOrNull { it.first.firesAt }!!.first.id
        space.markReminderDone(firstId)
        assertEquals(ReminderAlarms.Outcome(0, 1, 59, false), reconciler.reconcile(now))
        exact = true
        val refilled = reconciler.reconcile(now.plus(Duration.ofDays(1)))
        assertEquals(ReminderAlarms.Outcome(1, 0, 60, true), refilled)
        assertEquals(1, alarms.set.values.count { it.second })
        // The phone's zone changes (a trip): the core's reminders are in Alex's zone; nothing moves.
        val before = TimeZone.getDefault()
        TimeZone.setDefault(TimeZone.getTimeZone("America/New_York"))
        try {
            assertEquals(ReminderAlarms.Outcome(0, 0, 60, true), reconciler.reconcile(now.plus(Duration.ofDays(1))))
        } finally {
            TimeZone.setDefault(before)
        }
        // The rhythm stops: every alarm is cancelled.
        space.setCheckinRitual(null)
        assertEquals(0, reconciler.reconcile(now).pending)
        assertTrue(alarms.set.isEmpty())
    }

    @Test
    fun oneHolderPerProcessTheLocalSpaceForBackgroundWorkTheNodeInTheForeground() = runBlocking {
        val id = created.space().createAgreement(proposal("Phones away at dinner"))
        created.shutdown()
        val holder = SpaceHolder(
            openNode = { AccordNode.open(alexDir, NetworkMode.LOOPBACK) },
            closeNode = { it.space().flush(); it.shutdown() },
            openLocal = { AccordLocalSpace.open(alexDir) },
            closeLocal = { it.shutdown() },
        )
        assertFalse(holder.nodeRunning)
        // A notification action while no node runs: the local space, opened and closed for it.
        holder.withSpace({ it.space().logFollowThrough(id, LogKind.KEPT, "by node") }) {
            it.space().logFollowThrough(id, LogKind.KEPT, "from the notification")
        }
        assertFalse(holder.nodeRunning)
        // The app comes to the foreground: the node, and it has the action's entry.
        val node = holder.foreground()
        assertTrue(node === holder.foreground())
        assertEquals(listOf("from the notification"), node.space().followThrough(id).map { it.text })
        // While it runs, background work goes through it.
        holder.withSpace({ it.space().logFollowThrough(id, LogKind.NOTE, "through the node") }) { error("not the local space") }
        holder.background()
        assertFalse(holder.nodeRunning)
        // A background job holds the space while the app returns: the node waits, then opens.
        val job = AccordLocalSpace.open(alexDir)
        val closing = async(Dispatchers.IO) { delay(300); job.shutdown() }
        val again = holder.foreground()
        closing.await()
        assertEquals(2, again.space().followThrough(id).size)
        holder.background()
    }
}
