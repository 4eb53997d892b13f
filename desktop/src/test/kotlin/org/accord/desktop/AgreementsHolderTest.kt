package org.accord.desktop

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeoutOrNull
import org.accord.app.Words
import org.accord.app.agreements.AgreementsHolder
import org.accord.app.detail.AgreementDetailHolder
import org.accord.core.Status
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.accord.app.rhythm.Every
import org.accord.app.rhythm.Rhythm

/** Waits (at most 10 s) until the state satisfies [done]; returns it (fails naming the last state). */
fun <T> StateFlow<T>.awaitState(done: (T) -> Boolean): T =
    runBlocking { withTimeoutOrNull(10_000) { first(done) } } ?: throw AssertionError("gave up waiting; the state is $value")

/** The state holders against the fake core. */
class AgreementsHolderTest {
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    @After
    fun tearDown() = scope.cancel()

    @Test
    fun whatWaitsForMeComesFirstThenEveryAgreementByCategory() {
        val holder = AgreementsHolder(FakeCore.examples(), scope)
        val state = holder.state.awaitState { !it.loading }
        assertEquals(listOf("e2", "e6"), state.waitingForMe.map { it.id })
        assertEquals(
            listOf("Communication", "Time together", "Household", "Finances", "Conflict rules", "Family and friends"),
            state.sections.map { it.title },
        )
        assertEquals(7, state.sections.sumOf { it.agreements.size })
        assertEquals(null, state.error)
    }

    @Test
    fun anEmptySpaceSaysWhatToDoAndAnEmptyTitleIsAMessageNotACall() {
        val core = FakeCore()
        val holder = AgreementsHolder(core, scope)
        assertTrue(holder.state.awaitState { !it.loading }.empty)
        holder.create("   ")
        assertEquals(Words.EMPTY_TITLE, holder.state.awaitState { it.error != null }.error)
        holder.create("Phones away at dinner")
        val state = holder.state.awaitState { it.sections.isNotEmpty() }
        assertEquals("Phones away at dinner", state.sections[0].agreements[0].title)
        assertEquals(null, state.error)
    }

    @Test
    fun aPartnersChangeReachesTheScreenAndAFailureIsAMessage() {
        val core = FakeCore.examples()
        val holder = AgreementsHolder(core, scope)
        holder.state.awaitState { !it.loading }
        core.remoteChange { all -> all.removeAll { it.id == "e2" } }
        holder.state.awaitState { state -> state.waitingForMe.none { it.id == "e2" } }
        core.failWith = "the space is in use by another process"
        core.remoteChange { }
        val failed = holder.state.awaitState { it.error != null }
        assertEquals("the space is in use by another process", failed.error)
        assertTrue("what was shown stays", failed.sections.isNotEmpty())
    }

    @Test
    fun acceptingOnTheDetailScreenMakesItActiveWhenBothAccepted() {
        val core = FakeCore.examples()
        val detail = AgreementDetailHolder(core, "e2", scope)
        val before = detail.state.awaitState { !it.loading }
        assertTrue(before.canAccept)
        detail.accept()
        val after = detail.state.awaitState { it.acceptedByMe }
        assertEquals(Status.ACTIVE, after.details!!.summary.status)
        assertTrue(!after.canAccept)
        val missing = AgreementDetailHolder(core, "nope", scope)
        val error = missing.state.awaitState { it.error != null }.error!!
        assertTrue(error, error.contains("no agreement with id nope"))
    }

    @Test
    fun aWeeklyReminderIsAddedListedDoneAndAMistypedWeekdayIsAMessage() {
        val core = FakeCore.examples()
        val detail = AgreementDetailHolder(core, "e3", scope)
        detail.state.awaitState { !it.loading }
        detail.remind(Rhythm(Every.WEEK, "Fryday", "19:00"))
        assertEquals(Rhythm.NOT_A_WEEKDAY, detail.state.awaitState { it.error != null }.error)
        detail.remind(Rhythm(Every.WEEK, "fri", "19:00"))
        val withRule = detail.state.awaitState { it.rules.isNotEmpty() }
        assertEquals("Every week on Friday at 19:00, Europe/Berlin", Rhythm.describe(withRule.rules.single().rule))
        val reminders = org.accord.app.reminders.RemindersHolder(core, scope)
        val upcoming = reminders.state.awaitState { it.upcoming.isNotEmpty() }.upcoming
        reminders.done(upcoming.first().id)
        reminders.state.awaitState { s -> s.upcoming.none { it.id == upcoming.first().id } }
    }

    @Test
    fun rhythmsAreDailyWeeklyOrMonthlyOnADayOrAWeekdayAndAMistypedDayIsAMessage() {
        val start = java.time.LocalDate.parse("2027-03-01")
        val zone = "Europe/Berlin"
        fun words(r: Rhythm) = Rhythm.describe(r.toRule(zone, start))
        assertEquals("Every day at 07:30, Europe/Berlin", words(Rhythm(Every.DAY, "ignored", " 07:30 ")))
        assertEquals("Every week on Sunday at 20:00, Europe/Berlin", words(Rhythm(Every.WEEK, " Su ", "20:00")))
        assertEquals("Every month on day 15 at 19:00, Europe/Berlin", words(Rhythm(Every.MONTH, "15")))
        assertEquals("Every month on the first Saturday at 19:00, Europe/Berlin",
            words(Rhythm(Every.MONTH, "First saturday")))
        assertEquals("Every month on the last Friday at 19:00, Europe/Berlin", words(Rhythm(Every.MONTH, "last fri")))
        for (bad in listOf("", "0", "32", "first", "fifth Saturday", "Saturday")) {
            val refused = runCatching { Rhythm(Every.MONTH, bad).toRule(zone, start) }.exceptionOrNull()
            assertEquals(bad, Rhythm.NOT_A_DAY_OF_MONTH, refused?.message)
        }
        for (bad in listOf("", "f", "Fryday", "Friday Saturday")) {
            val refused = runCatching { Rhythm(Every.WEEK, bad).toRule(zone, start) }.exceptionOrNull()
            assertEquals(bad, Rhythm.NOT_A_WEEKDAY, refused?.message)
        }
        assertEquals(start.toString(), Rhythm(Every.DAY).toRule(zone, start).start)
    }

    @Test
    fun theCheckInRhythmIsSetChangedAndStoppedAndAMistypedDayIsAMessage() {
        val core = FakeCore.examples()
        val checkin = org.accord.app.checkin.CheckinHolder(core, scope)
        assertEquals(null, checkin.state.awaitState { !it.loading }.ritual)
        checkin.setRitual(Rhythm(Every.MONTH, "first sundy", "19:00"))
        assertEquals(Rhythm.NOT_A_DAY_OF_MONTH, checkin.state.awaitState { it.error != null }.error)
        checkin.setRitual(Rhythm(Every.WEEK, "sunday", "19:00"))
        val set = checkin.state.awaitState { it.ritual != null }.ritual!!
        assertEquals("Every week on Sunday at 19:00, Europe/Berlin", Rhythm.describe(set))
        checkin.stopRitual()
        checkin.state.awaitState { it.ritual == null && !it.loading }
    }

    @Test
    fun onlyTheOtherPartnerHearsAConcernAndOnlyItsAuthorResolvesIt() {
        val core = FakeCore.examples()
        core.samRaises("Late again without a text", "Worried", "A text when you are late")
        val holder = org.accord.app.concerns.ConcernsHolder(core, scope)
        val theirs = holder.state.awaitState { it.items.isNotEmpty() }.items.single()
        assertTrue(theirs.canAcknowledge && theirs.canRespond && !theirs.canResolve)
        holder.raise("  ", "", "")
        assertEquals(Words.EMPTY_CONCERN, holder.state.awaitState { it.error != null }.error)
        holder.raise("Dishes left overnight", "Tired", "Dishes before bed")
        val mine = holder.state.awaitState { it.items.size == 2 }.items.first { it.concern.raisedBy == core.alex }
        assertTrue(!mine.canAcknowledge && mine.canRespond && mine.canResolve)
        holder.resolve(mine.concern.id)
        val after = holder.state.awaitState { s -> s.items.any { it.concern.state == org.accord.core.ConcernState.RESOLVED } }
        assertEquals("resolved ones come last", org.accord.core.ConcernState.RESOLVED, after.items.last().concern.state)
    }
}

/** A new agreement for the tests (both partners concerned). */
fun proposal(
    title: String,
    category: org.accord.core.StandardCategory = org.accord.core.StandardCategory.COMMUNICATION,
    strength: org.accord.core.Strength = org.accord.core.Strength.TRY_MY_BEST,
) = org.accord.core.NewAgreement(
    title = title,
    category = org.accord.core.Category.Standard(category),
    kind = org.accord.core.Kind.AGREEMENT,
    strength = strength,
    concerns = org.accord.core.Concerns.Both,
)
