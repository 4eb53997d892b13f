package org.accord.app.reminders

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Card
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.unit.dp
import org.accord.app.Words
import org.accord.app.agreements.ErrorCard
import java.time.LocalDateTime
import java.time.format.DateTimeFormatter

private val local = DateTimeFormatter.ofPattern("EEE d MMM, HH:mm")

/** What is coming up for me: each reminder in its own time zone, done or snoozed here. */
@Composable
fun RemindersScreen(
    state: RemindersState,
    onDone: (String) -> Unit,
    onSnooze: (String) -> Unit,
    onBack: () -> Unit,
    modifier: Modifier = Modifier,
) {
    Surface(modifier.fillMaxSize(), color = MaterialTheme.colorScheme.background) {
        LazyColumn(
            Modifier.fillMaxSize().padding(horizontal = 16.dp),
            verticalArrangement = Arrangement.spacedBy(8.dp),
        ) {
            item { TextButton(onClick = onBack, modifier = Modifier.testTag("back")) { Text(Words.BACK) } }
            item { Text(Words.REMINDERS, style = MaterialTheme.typography.headlineSmall) }
            state.error?.let { item { ErrorCard(it) } }
            if (!state.loading && state.upcoming.isEmpty()) {
                item { Text(Words.NO_REMINDERS, modifier = Modifier.testTag("no-reminders")) }
            }
            items(state.upcoming, key = { it.occurrence }) { r ->
                Card(Modifier.fillMaxWidth().testTag("reminder")) {
                    Column(Modifier.padding(12.dp)) {
                        val at = runCatching { local.format(LocalDateTime.parse(r.firesAtLocal)) }.getOrDefault(r.firesAtLocal)
                        Text(at, style = MaterialTheme.typography.labelLarge, color = MaterialTheme.colorScheme.primary)
                        Text(r.body, style = MaterialTheme.typography.bodyLarge)
                        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                            OutlinedButton(onClick = { onDone(r.id) }, modifier = Modifier.testTag("done")) { Text(Words.DONE) }
                            OutlinedButton(onClick = { onSnooze(r.id) }, modifier = Modifier.testTag("snooze")) { Text(Words.SNOOZE) }
                        }
                    }
                }
            }
        }
    }
}
