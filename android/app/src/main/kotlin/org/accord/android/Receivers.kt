package org.accord.android

import android.app.PendingIntent
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import kotlinx.coroutines.launch
import org.accord.app.background.Alarm
import java.time.Instant

/** An alarm fired: shows the reminder (its words hidden on the lock screen). */
class ReminderReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        val id = intent.getStringExtra(ID) ?: return
        Notifications.reminder(context, id, intent.getStringExtra(TITLE).orEmpty(), intent.getStringExtra(BODY).orEmpty())
        // It fired: forget it and set the next ones.
        val app = context.applicationContext as AccordApplication
        val pending = goAsync()
        app.applicationScope.launch {
            try {
                AndroidAlarms(context).cancel(id)
                Reminders.reconcile(app)
            } finally {
                pending.finish()
            }
        }
    }

    companion object {
        private const val ID = "id"
        private const val TITLE = "title"
        private const val BODY = "body"

        fun intent(context: Context, alarm: Alarm): PendingIntent = PendingIntent.getBroadcast(
            context, alarm.id.hashCode(),
            Intent(context, ReminderReceiver::class.java)
                .putExtra(ID, alarm.id).putExtra(TITLE, alarm.title).putExtra(BODY, alarm.body),
            PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT,
        )

        /** The same PendingIntent (by request code and component) to cancel an alarm. */
        fun intentFor(context: Context, id: String): PendingIntent = PendingIntent.getBroadcast(
            context, id.hashCode(), Intent(context, ReminderReceiver::class.java),
            PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT,
        )
    }
}

/**
 * "Done" (for both partners) and "In an hour" (mine) from a notification: through the node if
 * the app runs, else the local space opened for it (written as an intent, no history loaded).
 */
class ReminderActionReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        val id = intent.getStringExtra(ID) ?: return
        val action = intent.getStringExtra(ACTION) ?: return
        val app = context.applicationContext as AccordApplication
        val pending = goAsync()
        app.applicationScope.launch {
            try {
                val until = Instant.now().plusSeconds(3600)
                app.holder.withSpace(
                    onNode = { if (action == DONE) it.space().markReminderDone(id) else it.space().snoozeReminder(id, until) },
                    onLocal = { if (action == DONE) it.space().markReminderDone(id) else it.space().snoozeReminder(id, until) },
                )
                Notifications.cancel(context, id)
                Reminders.reconcile(app)
            } catch (_: Exception) {
                // The reminder stays; the app shows it and the core's message when opened.
            } finally {
                pending.finish()
            }
        }
    }

    companion object {
        const val DONE = "done"
        const val SNOOZE = "snooze"
        private const val ID = "id"
        private const val ACTION = "action"

        fun intent(context: Context, id: String, action: String): PendingIntent = PendingIntent.getBroadcast(
            context, (id + action).hashCode(),
            Intent(context, ReminderActionReceiver::class.java).putExtra(ID, id).putExtra(ACTION, action),
            PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT,
        )
    }
}

/** After a reboot, a time or time-zone change, an update or exact alarms allowed: alarms again. */
class RescheduleReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        val app = context.applicationContext as AccordApplication
        val pending = goAsync()
        app.applicationScope.launch {
            try {
                if (intent.action == Intent.ACTION_BOOT_COMPLETED) {
                    // Every alarm is gone after a reboot: set them all again.
                    AndroidAlarms(context).scheduled().forEach { AndroidAlarms(context).cancel(it) }
                }
                Reminders.reconcile(app)
            } catch (_: Exception) {
            } finally {
                pending.finish()
            }
        }
    }
}
