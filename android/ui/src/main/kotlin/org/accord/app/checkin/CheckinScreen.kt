package org.accord.app.checkin

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.unit.dp
import org.accord.app.SubScreen
import org.accord.app.rhythm.Rhythm
import org.accord.app.rhythm.RhythmPicker
import org.accord.app.Words
import org.accord.app.agreements.ErrorCard
import java.time.ZoneId
import java.time.format.DateTimeFormatter

private val whenFormat = DateTimeFormatter.ofPattern("EEE d MMM, HH:mm")

/** The check-in: appreciation, open concerns, reviews, misses, waiting words, what is coming up. */
@Composable
fun CheckinScreen(
    state: CheckinState,
    onRecord: (String) -> Unit,
    onBack: () -> Unit,
    onRitual: (Rhythm) -> Unit = {},
    onStopRitual: () -> Unit = {},
    modifier: Modifier = Modifier,
    zone: ZoneId = ZoneId.systemDefault(),
) {
    var notes by remember { mutableStateOf("") }
    SubScreen(Words.CHECK_IN, state.error, onBack, modifier) {
        val agenda = state.agenda ?: run {
            if (state.loading) Text(Words.LOADING)
            return@SubScreen
        }
        agenda.lastCheckin?.let { Text("Last check-in: ${it.heldOn}", style = MaterialTheme.typography.bodySmall) }
        Section("1. Appreciation", listOf(agenda.appreciationPrompt))
        Section("2. Open concerns", agenda.openConcerns.map {
            "${state.names[it.raisedBy] ?: it.raisedBy}: ${it.whatHappened} (${Words.concern(it.state)})"
        })
        Section("3. Due for review", agenda.dueForReview.map { it.title })
        Section("4. Missed since the last check-in", agenda.missedSinceLastCheckin.map {
            val title = state.titles[it.agreement] ?: it.agreement
            if (it.text.isBlank()) title else "$title: ${it.text}"
        })
        Section("5. Waiting for a partner", agenda.waitingForPartner.map { w ->
            "${w.agreement.title} (waiting for ${w.waitingFor.joinToString(" and ") { state.names[it] ?: it }})"
        })
        Section("6. Coming up", agenda.upcoming.map {
            "${it.title}: ${whenFormat.format(it.at.atZone(zone))}"
        })
        OutlinedTextField(notes, { notes = it }, label = { Text("Notes you both keep (optional)") },
            modifier = Modifier.fillMaxWidth().testTag("notes"))
        Button(onClick = { onRecord(notes); notes = "" }, modifier = Modifier.testTag("record")) {
            Text(Words.RECORD_CHECKIN)
        }
        Ritual(state, onRitual, onStopRitual)
    }
}

/** The couple's check-in rhythm: what it is, a new one, or stopping it. */
@Composable
private fun Ritual(state: CheckinState, onRitual: (Rhythm) -> Unit, onStop: () -> Unit) {
    Text(Words.RITUAL, style = MaterialTheme.typography.titleMedium, color = MaterialTheme.colorScheme.primary,
        modifier = Modifier.padding(top = 8.dp))
    val ritual = state.ritual
    Text(ritual?.let { Rhythm.describe(it) } ?: Words.NO_RITUAL, style = MaterialTheme.typography.bodyMedium,
        modifier = Modifier.testTag("ritual"))
    RhythmPicker(if (ritual == null) Words.KEEP_RHYTHM else Words.CHANGE_RHYTHM, "ritual", onRitual)
    if (ritual != null) {
        TextButton(onClick = onStop, modifier = Modifier.testTag("ritual-stop")) { Text(Words.STOP_RHYTHM) }
    }
}

@Composable
private fun Section(title: String, lines: List<String>) {
    Text(title, style = MaterialTheme.typography.titleMedium, color = MaterialTheme.colorScheme.primary,
        modifier = Modifier.padding(top = 8.dp).semantics { heading() })
    if (lines.isEmpty()) {
        Text("Nothing", style = MaterialTheme.typography.bodyMedium, color = MaterialTheme.colorScheme.onSurfaceVariant)
    }
    for (line in lines) Text("• $line", style = MaterialTheme.typography.bodyMedium)
}
