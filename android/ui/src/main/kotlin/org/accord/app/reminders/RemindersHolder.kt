package org.accord.app.reminders

import kotlinx.coroutines.CoroutineScope
import org.accord.app.core.AccordCore
import org.accord.app.core.ScreenHolder
import org.accord.core.Reminder
import java.time.Duration
import java.time.Instant

/** The reminders screen: what is coming up for me. */
data class RemindersState(
    val loading: Boolean = true,
    val upcoming: List<Reminder> = emptyList(),
    val error: String? = null,
)

/** State holder of my upcoming reminders. */
class RemindersHolder(
    core: AccordCore,
    scope: CoroutineScope,
    private val clock: () -> Instant = Instant::now,
) : ScreenHolder<RemindersState>(core, scope, RemindersState()) {
    init {
        start()
    }

    override fun failed(state: RemindersState, message: String) = state.copy(loading = false, error = message)

    override suspend fun refresh() = load { RemindersState(loading = false, upcoming = core.upcomingReminders(clock())) }

    /** Marks a reminder done (for both of us). */
    fun done(id: String) = act { core.markReminderDone(id) }

    /** Snoozes one of my reminders for an hour. */
    fun snooze(id: String) = act { core.snoozeReminder(id, clock().plus(Duration.ofHours(1))) }
}
