package org.accord.app.rhythm

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.ExperimentalLayoutApi
import androidx.compose.foundation.layout.FlowRow
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.material3.FilterChip
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.unit.dp

/**
 * Choosing a rhythm: every day, week or month, on which day, at what time; [action] names the
 * button ("Remind us", "Keep this rhythm"). Test tags start with [tag].
 */
@OptIn(ExperimentalLayoutApi::class)
@Composable
fun RhythmPicker(action: String, tag: String, onSet: (Rhythm) -> Unit) {
    var every by remember { mutableStateOf(Every.WEEK) }
    var on by remember { mutableStateOf("") }
    var time by remember { mutableStateOf("19:00") }
    FlowRow(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
        for (choice in Every.entries) {
            FilterChip(
                selected = every == choice,
                onClick = { every = choice },
                label = { Text(LABELS.getValue(choice), maxLines = 1) },
                modifier = Modifier.testTag("$tag-every-${choice.name.lowercase()}"),
            )
        }
    }
    if (every != Every.DAY) {
        OutlinedTextField(
            on, { on = it },
            label = { Text(if (every == Every.WEEK) "Weekday" else "Day (15, first Saturday)") },
            modifier = Modifier.fillMaxWidth().testTag("$tag-on"),
        )
    }
    OutlinedTextField(time, { time = it }, label = { Text("Time") },
        modifier = Modifier.fillMaxWidth().testTag("$tag-time"))
    OutlinedButton(onClick = { onSet(Rhythm(every, on, time)) }, modifier = Modifier.testTag("$tag-set")) {
        Text(action)
    }
}

private val LABELS = mapOf(Every.DAY to "Daily", Every.WEEK to "Weekly", Every.MONTH to "Monthly")
