package org.accord.app.detail

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import org.accord.core.Field
import org.accord.core.WordChange
import org.accord.core.WordRun
import org.accord.core.LogKind
import org.accord.core.PositionState
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.text.SpanStyle
import androidx.compose.ui.text.buildAnnotatedString
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.text.style.TextDecoration
import androidx.compose.ui.text.withStyle
import androidx.compose.foundation.layout.PaddingValues
import androidx.compose.foundation.layout.Row
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.unit.dp
import org.accord.app.SubScreen
import org.accord.app.Words
import org.accord.app.rhythm.Rhythm
import org.accord.app.rhythm.RhythmPicker
import org.accord.app.agreements.ErrorCard

@Composable
private fun ChangedSinceAccepted(state: DetailState) {
    val mine = state.details?.changesSinceAcceptance?.firstOrNull { it.partner == state.me } ?: return
    if (mine.changes.isEmpty()) return
    Text(Words.CHANGED_SINCE, style = MaterialTheme.typography.titleMedium,
        color = MaterialTheme.colorScheme.primary, modifier = Modifier.padding(top = 8.dp))
    for (change in mine.changes) {
        Text(Words.field(change.field).replaceFirstChar { it.uppercaseChar() } + ":",
            style = MaterialTheme.typography.labelLarge)
        val removed = SpanStyle(textDecoration = TextDecoration.LineThrough, color = MaterialTheme.colorScheme.error)
        val added = SpanStyle(fontWeight = FontWeight.Bold, color = MaterialTheme.colorScheme.tertiary)
        // The core diffs the words and the details; other fields are shown whole.
        val runs = change.words.ifEmpty {
            listOf(WordRun(change.accepted, WordChange.REMOVED), WordRun(change.now, WordChange.ADDED))
        }
        Text(
            buildAnnotatedString {
                runs.forEachIndexed { i, run ->
                    if (i > 0) append(" ")
                    when (run.change) {
                        WordChange.KEPT -> append(run.text)
                        WordChange.REMOVED -> withStyle(removed) { append(run.text) }
                        WordChange.ADDED -> withStyle(added) { append(run.text) }
                    }
                }
            },
            modifier = Modifier.testTag("diff").semantics {
                contentDescription = "You accepted: ${change.accepted}. Now: ${change.now}."
            },
        )
    }
}

@Composable
private fun Positions(state: DetailState, onWrite: (String) -> Unit, onReady: () -> Unit) {
    var text by remember { mutableStateOf("") }
    Text(Words.POSITIONS, style = MaterialTheme.typography.titleMedium,
        color = MaterialTheme.colorScheme.primary, modifier = Modifier.padding(top = 8.dp))
    Text(Words.POSITIONS_NOTE, style = MaterialTheme.typography.bodySmall)
    val mine = state.positions.firstOrNull { it.partner == state.me }
    for (p in state.positions) {
        val who = state.names[p.partner] ?: p.partner
        val shown = when {
            p.text == null -> Words.SEALED
            p.state == PositionState.DRAFT -> "${p.text} (draft)"
            p.state == PositionState.READY && p.partner == state.me -> "${p.text} (ready)"
            else -> p.text
        }
        Text("$who: $shown", style = MaterialTheme.typography.bodyMedium, modifier = Modifier.testTag("position"))
    }
    if (mine?.state == null || mine.state == PositionState.DRAFT) {
        OutlinedTextField(text, { text = it }, label = { Text("My position") },
            modifier = Modifier.fillMaxWidth().testTag("position-text"))
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            OutlinedButton(onClick = { onWrite(text); text = "" }, modifier = Modifier.testTag("position-save")) {
                Text("Save")
            }
            if (mine != null) {
                OutlinedButton(onClick = onReady, modifier = Modifier.testTag("position-ready")) { Text(Words.MARK_READY) }
            }
        }
    }
}

@Composable
private fun Lifecycle(onRetire: (String) -> Unit, onRenegotiate: (String) -> Unit) {
    var reason by remember { mutableStateOf("") }
    OutlinedTextField(reason, { reason = it }, label = { Text(Words.REASON) },
        modifier = Modifier.fillMaxWidth().testTag("reason"))
    Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
        OutlinedButton(onClick = { onRenegotiate(reason); reason = "" }, modifier = Modifier.testTag("renegotiate")) {
            Text(Words.RENEGOTIATE)
        }
        OutlinedButton(onClick = { onRetire(reason); reason = "" }, modifier = Modifier.testTag("retire")) {
            Text(Words.RETIRE)
        }
    }
}

@Composable
private fun Rules(state: DetailState, onRemind: (Rhythm) -> Unit, onRemove: (String) -> Unit) {
    Text(Words.REMINDERS, style = MaterialTheme.typography.titleMedium,
        color = MaterialTheme.colorScheme.primary, modifier = Modifier.padding(top = 8.dp))
    for (rule in state.rules) {
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            Text(Rhythm.describe(rule.rule), style = MaterialTheme.typography.bodyMedium,
                modifier = Modifier.weight(1f).testTag("rule"))
            TextButton(onClick = { onRemove(rule.id) }, modifier = Modifier.testTag("remove-rule")) { Text("Remove") }
        }
    }
    RhythmPicker(Words.REMIND_US, "rule", onRemind)
}

@Composable
private fun History(state: DetailState) {
    if (state.history.isEmpty()) return
    Text(Words.HISTORY, style = MaterialTheme.typography.titleMedium,
        color = MaterialTheme.colorScheme.primary, modifier = Modifier.padding(top = 8.dp))
    val format = java.time.format.DateTimeFormatter.ofPattern("d MMM yyyy, HH:mm")
    for (entry in state.history) {
        val who = entry.partner?.let { state.names[it] ?: it } ?: "Someone"
        val at = format.format(entry.at.atZone(java.time.ZoneId.systemDefault()))
        Text("$at · $who · ${entry.action}", style = MaterialTheme.typography.bodySmall)
        for (c in entry.changes) {
            Text("   ${Words.field(c.field)}: ${c.accepted} → ${c.now}", style = MaterialTheme.typography.bodySmall,
                color = MaterialTheme.colorScheme.onSurfaceVariant)
        }
    }
}

@Composable
private fun FollowThrough(state: DetailState, onLog: (LogKind, String) -> Unit) {
    var note by remember { mutableStateOf("") }
    Text(Words.FOLLOW_THROUGH, style = MaterialTheme.typography.titleMedium,
        color = MaterialTheme.colorScheme.primary, modifier = Modifier.padding(top = 8.dp))
    if (state.log.isEmpty()) Text(Words.NO_LOG, style = MaterialTheme.typography.bodyMedium)
    for (entry in state.log) {
        val who = state.names[entry.author] ?: entry.author
        Text(
            "$who · ${Words.log(entry.kind)}" + if (entry.text.isBlank()) "" else ": ${entry.text}",
            style = MaterialTheme.typography.bodyMedium,
            modifier = Modifier.testTag("log-entry"),
        )
    }
    OutlinedTextField(note, { note = it }, label = { Text("A few words (optional)") },
        modifier = Modifier.fillMaxWidth().testTag("log-text"))
    Row(Modifier.fillMaxWidth(), horizontalArrangement = Arrangement.spacedBy(4.dp)) {
        for (kind in LogKind.entries) {
            OutlinedButton(
                onClick = { onLog(kind, note); note = "" },
                contentPadding = PaddingValues(horizontal = 8.dp),
                modifier = Modifier.weight(1f).testTag("log-${kind.name.lowercase()}"),
            ) { Text(Words.log(kind), maxLines = 1) }
        }
    }
}

@Composable
private fun ChangeWords(title: String, details: String, onEdit: (String, String) -> Unit) {
    var open by remember { mutableStateOf(false) }
    var newTitle by remember(title) { mutableStateOf(title) }
    var newDetails by remember(details) { mutableStateOf(details) }
    if (!open) {
        TextButton(onClick = { open = true }, modifier = Modifier.testTag("change")) { Text(Words.CHANGE_WORDS) }
        return
    }
    Text(Words.CHANGE_NOTE, style = MaterialTheme.typography.bodySmall)
    OutlinedTextField(newTitle, { newTitle = it }, label = { Text("Words") },
        modifier = Modifier.fillMaxWidth().testTag("edit-title"))
    OutlinedTextField(newDetails, { newDetails = it }, label = { Text("Details (optional)") },
        modifier = Modifier.fillMaxWidth().testTag("edit-details"))
    Button(onClick = { onEdit(newTitle, newDetails); open = false }, modifier = Modifier.testTag("save")) {
        Text(Words.SAVE_WORDS)
    }
}

/**
 * Words of both versions of a conflicted text field written into one by hand: starts from the
 * first version; saving settles the conflict on the new words (both accept them again).
 */
@Composable
private fun MergeVersions(conflict: org.accord.core.FieldConflict, onChoose: (Field, String) -> Unit) {
    val tag = conflict.field.name.lowercase()
    var open by remember(conflict) { mutableStateOf(false) }
    var merged by remember(conflict) { mutableStateOf(conflict.candidates.firstOrNull()?.value ?: "") }
    if (!open) {
        TextButton(onClick = { open = true }, modifier = Modifier.testTag("merge-$tag")) { Text(Words.MERGE) }
        return
    }
    Text(Words.MERGE_NOTE, style = MaterialTheme.typography.bodySmall)
    OutlinedTextField(merged, { merged = it }, label = { Text(Words.MERGED_WORDS) },
        modifier = Modifier.fillMaxWidth().testTag("merged-$tag"))
    Button(onClick = { onChoose(conflict.field, merged) }, modifier = Modifier.testTag("use-merged-$tag")) {
        Text(Words.USE_MERGED)
    }
}

/** One agreement: its words, strength, category, who accepted, and "accept" when it is mine to give. */
@Composable
fun AgreementDetailScreen(
    state: DetailState,
    onAccept: () -> Unit,
    onBack: () -> Unit,
    onEdit: (title: String, details: String) -> Unit = { _, _ -> },
    onChoose: (Field, String) -> Unit = { _, _ -> },
    onLog: (LogKind, String) -> Unit = { _, _ -> },
    onWritePosition: (String) -> Unit = {},
    onPositionReady: () -> Unit = {},
    onRemind: (Rhythm) -> Unit = {},
    onRemoveRule: (String) -> Unit = {},
    onRetire: (String) -> Unit = {},
    onRenegotiate: (String) -> Unit = {},
    onRaiseConcern: () -> Unit = {},
    modifier: Modifier = Modifier,
) {
    SubScreen(null, state.error, onBack, modifier) {
        val details = state.details
        if (details == null) {
            if (state.loading) Text(Words.LOADING)
            return@SubScreen
        }
        val summary = details.summary
        // A title in conflict is shown as its versions below, never as one mixed line.
        val titleInConflict = details.conflicts.any { it.field == Field.TITLE }
        Text(
            if (titleInConflict) Words.TWO_VERSIONS else summary.title,
            style = MaterialTheme.typography.headlineSmall,
        )
        if (details.details.isNotBlank()) {
            Text(details.details, style = MaterialTheme.typography.bodyLarge)
        }
        Text(
            "${Words.kind(summary.kind)} · ${Words.category(summary.category)} · " +
                Words.strength(summary.strength),
            style = MaterialTheme.typography.bodyMedium,
            color = MaterialTheme.colorScheme.onSurfaceVariant,
        )
        Text(Words.status(summary.status), style = MaterialTheme.typography.titleMedium)
        val accepted = summary.acceptedBy.map { state.names[it] ?: it }
        if (accepted.isNotEmpty()) {
            Text(
                "Accepted by " + accepted.joinToString(" and "),
                modifier = Modifier.testTag("accepted-by"),
            )
        }
        for (conflict in details.conflicts) {
            Text(
                "Two versions of ${Words.field(conflict.field)}: choose one or write them into one",
                style = MaterialTheme.typography.titleMedium,
                color = MaterialTheme.colorScheme.error,
            )
            conflict.candidates.forEachIndexed { index, candidate ->
                Card(Modifier.fillMaxWidth()) {
                    Column(Modifier.padding(12.dp)) {
                        Text(candidate.value, style = MaterialTheme.typography.bodyLarge)
                        candidate.author?.let {
                            Text("by ${state.names[it] ?: it}", style = MaterialTheme.typography.bodySmall)
                        }
                        OutlinedButton(
                            onClick = { onChoose(conflict.field, candidate.value) },
                            modifier = Modifier.testTag("keep-${conflict.field.name.lowercase()}-$index"),
                        ) { Text(Words.KEEP_THIS) }
                    }
                }
            }
            if (conflict.field == Field.TITLE || conflict.field == Field.DETAILS) MergeVersions(conflict, onChoose)
        }
        when {
            state.acceptedByMe -> Text(Words.ACCEPTED_BY_YOU, modifier = Modifier.testTag("accepted"))
            state.canAccept -> Button(onClick = onAccept, modifier = Modifier.testTag("accept")) {
                Text(Words.ACCEPT)
            }
        }
        if (details.conflicts.isEmpty() && details.retirement == null) {
            ChangeWords(summary.title, details.details, onEdit)
        }
        ChangedSinceAccepted(state)
        details.retirement?.let { r ->
            Text("Retired by ${state.names[r.partner] ?: r.partner}" + if (r.reason.isBlank()) "" else ": ${r.reason}",
                style = MaterialTheme.typography.bodyMedium, modifier = Modifier.testTag("retired"))
        }
        if (details.retirement == null) {
            Lifecycle(onRetire, onRenegotiate)
            TextButton(onClick = onRaiseConcern, modifier = Modifier.testTag("raise-about")) { Text(Words.RAISE_ABOUT_THIS) }
        }
        FollowThrough(state, onLog)
        Rules(state, onRemind, onRemoveRule)
        Positions(state, onWritePosition, onPositionReady)
        History(state)
    }
}
