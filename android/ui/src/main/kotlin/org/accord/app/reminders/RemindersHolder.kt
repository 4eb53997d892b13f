package org.accord.app.reminders

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import org.accord.app.core.AccordCore
import org.accord.core.Reminder
import java.time.Duration
import java.time.Instant

/** The reminders screen: what is coming up for me. */
data class RemindersState(
    val loading: Boolean = true,
    val upcoming: List<Reminder> = emptyList(),
    val error: String? = null,
)

/** State holder of my upcoming reminders, refreshed on every change of the space. */
class RemindersHolder(
    private val core: AccordCore,
    private val scope: CoroutineScope,
    private val clock: () -> Instant = Instant::now,
) {
    private val mutable = MutableStateFlow(RemindersState())

    /** What the screen shows. */
    val state: StateFlow<RemindersState> = mutable.asStateFlow()

    init {
        scope.launch {
            refresh()
            core.changes().collect { refresh() }
        }
    }

    /** Reads the reminders again. */
    suspend fun refresh() {
        try {
            mutable.value = RemindersState(loading = false, upcoming = core.upcomingReminders(clock()))
        } catch (e: Exception) {
            mutable.update { it.copy(loading = false, error = e.message ?: e.toString()) }
        }
    }

    /** Marks a reminder done (for both of us). */
    fun done(id: String) = act { core.markReminderDone(id) }

    /** Snoozes one of my reminders for an hour. */
    fun snooze(id: String) = act { core.snoozeReminder(id, clock().plus(Duration.ofHours(1))) }

    private fun act(call: suspend () -> Unit) {
        scope.launch {
            try {
                call()
                refresh()
            } catch (e: Exception) {
                mutable.update { it.copy(error = e.message ?: e.toString()) }
            }
        }
    }
}
