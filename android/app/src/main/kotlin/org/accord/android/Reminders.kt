package org.accord.android

import android.app.AlarmManager
import android.app.PendingIntent
import android.content.Context
import android.content.Intent
import android.os.Build
import org.accord.app.background.Alarm
import org.accord.app.background.AlarmScheduling
import org.accord.app.background.ReminderAlarms
import java.time.Instant

/**
 * [AlarmScheduling] over `AlarmManager`. AlarmManager cannot list what it holds, so the ids
 * set are kept in private preferences beside it. Alarms vanish on reboot: the
 * [RescheduleReceiver] sets them again.
 */
class AndroidAlarms(private val context: Context) : AlarmScheduling {
    private val prefs get() = context.getSharedPreferences("alarms", Context.MODE_PRIVATE)
    private val manager get() = context.getSystemService(AlarmManager::class.java)

    override fun scheduled(): Set<String> = prefs.getStringSet("ids", emptySet())!!.toSet()

    override fun set(alarm: Alarm, exact: Boolean) {
        val intent = ReminderReceiver.intent(context, alarm)
        val at = alarm.firesAt.toEpochMilli()
        if (exact) {
            manager.setExactAndAllowWhileIdle(AlarmManager.RTC_WAKEUP, at, intent)
        } else {
            manager.setAndAllowWhileIdle(AlarmManager.RTC_WAKEUP, at, intent)
        }
        prefs.edit().putStringSet("ids", scheduled() + alarm.id).commit()
    }

    override fun cancel(id: String) {
        manager.cancel(ReminderReceiver.intentFor(context, id))
        prefs.edit().putStringSet("ids", scheduled() - id).commit()
    }

    /** Whether exact alarms are allowed (the user may grant them in settings). */
    fun exactAllowed(): Boolean = Build.VERSION.SDK_INT < 31 || manager.canScheduleExactAlarms()
}

/** Reconciles the phone's alarms with the core's reminders, through whoever holds the space. */
object Reminders {
    suspend fun reconcile(app: AccordApplication): ReminderAlarms.Outcome? {
        if (!app.holdsSpace()) return null
        val alarms = AndroidAlarms(app)
        val upcoming: suspend (Instant) -> List<org.accord.core.Reminder> = { now ->
            app.holder.withSpace(
                onNode = { it.space().upcomingReminders(now, LIMIT, HORIZON_DAYS) },
                onLocal = { it.space().upcomingReminders(now, LIMIT, HORIZON_DAYS) },
            )
        }
        return ReminderAlarms(upcoming, alarms, alarms::exactAllowed).reconcile(Instant.now())
    }

    private val LIMIT = ReminderAlarms.LIMIT.toUInt()
    private const val HORIZON_DAYS = 60u
}
