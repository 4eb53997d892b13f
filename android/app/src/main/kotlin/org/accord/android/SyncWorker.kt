package org.accord.android

import android.content.Context
import androidx.lifecycle.Lifecycle
import androidx.lifecycle.ProcessLifecycleOwner
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import androidx.work.Constraints
import androidx.work.CoroutineWorker
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.NetworkType
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import java.time.Instant
import java.util.concurrent.TimeUnit

/**
 * Background sync about every hour when there is a network: opens the node unless the app
 * runs it, syncs for a few seconds, says (without content) when the partner brought new
 * proposals, concerns or acceptances, reschedules reminders, closes the node again.
 */
class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result {
        val app = applicationContext as AccordApplication
        if (!app.holdsSpace()) return Result.success()
        val wasRunning = app.holder.nodeRunning
        return try {
            val node = app.holder.foreground()
            val before = waitingOnMe(node)
            node.syncNow(8_000u)
            if (waitingOnMe(node) > before) Notifications.fromPartner(app)
            Reminders.reconcile(app)
            Result.success()
        } catch (e: Exception) {
            Result.retry()
        } finally {
            // Close the node only if this job opened it and the app did not come to the front meanwhile.
            val inFront = withContext(Dispatchers.Main) {
                ProcessLifecycleOwner.get().lifecycle.currentState.isAtLeast(Lifecycle.State.STARTED)
            }
            if (!wasRunning && !inFront) app.holder.background()
        }
    }

    /** What waits for me: words to accept and the partner's open concerns. */
    private fun waitingOnMe(node: org.accord.ffi.AccordNode): Int {
        val space = node.space()
        val me = space.info().me
        val agenda = space.agenda(Instant.now())
        return agenda.waitingForPartner.count { me in it.waitingFor } + agenda.openConcerns.count { it.raisedBy != me }
    }

    companion object {
        fun schedule(context: Context) {
            val request = PeriodicWorkRequestBuilder<SyncWorker>(1, TimeUnit.HOURS)
                .setConstraints(Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build())
                .build()
            WorkManager.getInstance(context).enqueueUniquePeriodicWork("sync", ExistingPeriodicWorkPolicy.KEEP, request)
        }
    }
}
