package org.accord.app.background

import org.accord.core.Reminder
import java.time.Instant

/** One alarm as the app sets it: the core's stable reminder id, when, and the words. */
data class Alarm(
    /** The core's stable id of this reminder (the alarm's and the notification's key). */
    val id: String,
    val firesAt: Instant,
    val title: String,
    val body: String,
)

/**
 * What the reconciler needs of the phone's alarms (Android: `AlarmManager` plus a record of
 * what was set, since `AlarmManager` cannot list its alarms; a fake in tests).
 */
interface AlarmScheduling {
    /** Ids of the alarms set now. */
    fun scheduled(): Set<String>

    /** Sets (or replaces) an alarm; [exact] when exact alarms are allowed. */
    fun set(alarm: Alarm, exact: Boolean)

    /** Cancels an alarm. */
    fun cancel(id: String)
}

/**
 * Keeps the phone's alarms equal to the core's next reminders, by stable id: adds what is new,
 * cancels what is gone (done, snoozed, a rule removed, past), leaves the rest. Run on every
 * "reminders changed", at start, after boot and after a time-zone change.
 *
 * Exact or inexact: exact alarms only when the system allows them ([exactAllowed]: Android 14
 * denies `SCHEDULE_EXACT_ALARM` to new installs by default, and Accord is not an alarm clock,
 * so it does not ask for `USE_EXACT_ALARM`); otherwise an inexact alarm allowed while idle,
 * which Android may deliver some minutes late.
 */
class ReminderAlarms(
    /** The core's reminders for this partner from a time, soonest first. */
    private val upcoming: suspend (Instant) -> List<Reminder>,
    private val alarms: AlarmScheduling,
    private val exactAllowed: () -> Boolean,
) {
    /** What a reconciliation changed. */
    data class Outcome(val set: Int, val cancelled: Int, val pending: Int, val exact: Boolean)

    /** Adds what is new, cancels what is gone; at most [LIMIT] alarms (Android allows 500 per app). */
    suspend fun reconcile(now: Instant): Outcome {
        val wanted = upcoming(now).take(LIMIT).map { Alarm(it.id, it.firesAtUtc, it.title, it.body) }
        val wantedIds = wanted.map { it.id }.toSet()
        val present = alarms.scheduled()
        val gone = present - wantedIds
        gone.forEach(alarms::cancel)
        val exact = exactAllowed()
        val new = wanted.filter { it.id !in present }
        new.forEach { alarms.set(it, exact) }
        return Outcome(set = new.size, cancelled = gone.size, pending = wanted.size, exact = exact)
    }

    companion object {
        /** How many alarms stay set at most (refilled on every reconciliation). */
        const val LIMIT = 64
    }
}
