package org.accord.android

import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.Context
import android.content.Intent
import androidx.core.app.NotificationCompat
import androidx.core.app.NotificationManagerCompat

/**
 * Local notifications. On the lock screen (and to anyone glancing at the phone) only a neutral
 * public version shows: "Accord · You have a reminder"; the words show once the phone is unlocked.
 */
object Notifications {
    const val REMINDERS = "reminders"
    const val PARTNER = "partner"
    private const val PARTNER_ID = 1

    fun createChannels(context: Context) {
        val manager = context.getSystemService(NotificationManager::class.java)
        manager.createNotificationChannel(
            NotificationChannel(REMINDERS, context.getString(R.string.channel_reminders), NotificationManager.IMPORTANCE_DEFAULT)
                .apply { lockscreenVisibility = android.app.Notification.VISIBILITY_PRIVATE },
        )
        manager.createNotificationChannel(
            NotificationChannel(PARTNER, context.getString(R.string.channel_partner), NotificationManager.IMPORTANCE_DEFAULT)
                .apply { lockscreenVisibility = android.app.Notification.VISIBILITY_PRIVATE },
        )
    }

    private fun openApp(context: Context) = PendingIntent.getActivity(
        context, 0, Intent(context, MainActivity::class.java), PendingIntent.FLAG_IMMUTABLE,
    )

    private fun neutral(context: Context, channel: String, line: Int) =
        NotificationCompat.Builder(context, channel)
            .setSmallIcon(android.R.drawable.ic_popup_reminder)
            .setContentTitle(context.getString(R.string.neutral_title))
            .setContentText(context.getString(line))
            .build()

    /** A reminder with its words, "Done" and "In an hour". */
    fun reminder(context: Context, id: String, title: String, body: String) {
        val notification = NotificationCompat.Builder(context, REMINDERS)
            .setSmallIcon(android.R.drawable.ic_popup_reminder)
            .setContentTitle(title)
            .setContentText(body)
            .setVisibility(NotificationCompat.VISIBILITY_PRIVATE)
            .setPublicVersion(neutral(context, REMINDERS, R.string.neutral_reminder))
            .setContentIntent(openApp(context))
            .setAutoCancel(true)
            .addAction(0, context.getString(R.string.action_done), ReminderActionReceiver.intent(context, id, ReminderActionReceiver.DONE))
            .addAction(0, context.getString(R.string.action_snooze), ReminderActionReceiver.intent(context, id, ReminderActionReceiver.SNOOZE))
            .build()
        post(context, id.hashCode(), notification)
    }

    /** A sync brought the partner's new proposals, concerns or acceptances (no content at all). */
    fun fromPartner(context: Context) {
        val notification = NotificationCompat.Builder(context, PARTNER)
            .setSmallIcon(android.R.drawable.ic_popup_sync)
            .setContentTitle(context.getString(R.string.neutral_title))
            .setContentText(context.getString(R.string.neutral_partner))
            .setVisibility(NotificationCompat.VISIBILITY_PRIVATE)
            .setPublicVersion(neutral(context, PARTNER, R.string.neutral_partner))
            .setContentIntent(openApp(context))
            .setAutoCancel(true)
            .build()
        post(context, PARTNER_ID, notification)
    }

    fun cancel(context: Context, id: String) = NotificationManagerCompat.from(context).cancel(id.hashCode())

    private fun post(context: Context, id: Int, notification: android.app.Notification) {
        val manager = NotificationManagerCompat.from(context)
        if (manager.areNotificationsEnabled()) {
            try {
                manager.notify(id, notification)
            } catch (_: SecurityException) {
                // POST_NOTIFICATIONS was refused: the reminder stays on the reminders screen.
            }
        }
    }
}
