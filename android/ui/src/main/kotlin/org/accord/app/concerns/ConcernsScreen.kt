package org.accord.app.concerns

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
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
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.unit.dp
import org.accord.app.Words
import org.accord.app.agreements.ErrorCard
import org.accord.core.ConcernId

/** Concerns and repair: raise one (what happened, how I felt, what I need), hear, answer, resolve. */
@Composable
fun ConcernsScreen(
    state: ConcernsState,
    onRaise: (String, String, String) -> Unit,
    onAcknowledge: (ConcernId) -> Unit,
    onRespond: (ConcernId, String) -> Unit,
    onResolve: (ConcernId) -> Unit,
    onBack: () -> Unit,
    onRenegotiate: (ConcernId, String) -> Unit = { _, _ -> },
    onAboutNothing: () -> Unit = {},
    modifier: Modifier = Modifier,
) {
    Surface(modifier.fillMaxSize(), color = MaterialTheme.colorScheme.background) {
        LazyColumn(
            Modifier.fillMaxSize().padding(horizontal = 16.dp),
            verticalArrangement = Arrangement.spacedBy(8.dp),
        ) {
            item { TextButton(onClick = onBack, modifier = Modifier.testTag("back")) { Text(Words.BACK) } }
            item { Text(Words.CONCERNS, style = MaterialTheme.typography.headlineSmall) }
            item { RaiseForm(state.about?.let { state.titles[it] ?: it }, onRaise, onAboutNothing) }
            state.error?.let { item { ErrorCard(it) } }
            if (!state.loading && state.items.isEmpty()) {
                item { Text(Words.NO_CONCERNS, modifier = Modifier.testTag("no-concerns")) }
            }
            items(state.items, key = { it.concern.id }) { item ->
                ConcernCard(item, state, onAcknowledge, onRespond, onResolve, onRenegotiate)
            }
        }
    }
}

@Composable
private fun RaiseForm(about: String?, onRaise: (String, String, String) -> Unit, onAboutNothing: () -> Unit) {
    var what by remember { mutableStateOf("") }
    var felt by remember { mutableStateOf("") }
    var need by remember { mutableStateOf("") }
    Column(verticalArrangement = Arrangement.spacedBy(4.dp)) {
        if (about != null) {
            Row(verticalAlignment = androidx.compose.ui.Alignment.CenterVertically) {
                Text("About: $about", style = MaterialTheme.typography.bodyMedium,
                    modifier = Modifier.weight(1f).testTag("about"))
                TextButton(onClick = onAboutNothing, modifier = Modifier.testTag("about-nothing")) {
                    Text(Words.ABOUT_NOTHING)
                }
            }
        }
        OutlinedTextField(what, { what = it }, label = { Text("What happened") },
            modifier = Modifier.fillMaxWidth().testTag("what"))
        OutlinedTextField(felt, { felt = it }, label = { Text("How I felt") },
            modifier = Modifier.fillMaxWidth().testTag("felt"))
        OutlinedTextField(need, { need = it }, label = { Text("What I need in repair") },
            modifier = Modifier.fillMaxWidth().testTag("need"))
        Button(
            onClick = {
                onRaise(what, felt, need)
                if (what.isNotBlank()) {
                    what = ""; felt = ""; need = ""
                }
            },
            modifier = Modifier.testTag("raise"),
        ) { Text(Words.RAISE) }
    }
}

@Composable
private fun ConcernCard(
    item: ConcernItem,
    state: ConcernsState,
    onAcknowledge: (ConcernId) -> Unit,
    onRespond: (ConcernId, String) -> Unit,
    onResolve: (ConcernId) -> Unit,
    onRenegotiate: (ConcernId, String) -> Unit,
) {
    val names = state.names
    val c = item.concern
    val by = names[c.raisedBy] ?: c.raisedBy
    var answer by remember(c.id) { mutableStateOf("") }
    Card(Modifier.fillMaxWidth().semantics { contentDescription = "Concern by $by: ${c.whatHappened}" }) {
        Column(Modifier.padding(12.dp), verticalArrangement = Arrangement.spacedBy(4.dp)) {
            Text("$by · ${Words.concern(c.state)}", style = MaterialTheme.typography.labelLarge,
                color = MaterialTheme.colorScheme.primary)
            c.agreement?.let { Text("About: ${state.titles[it] ?: it}", style = MaterialTheme.typography.bodySmall) }
            Text(c.whatHappened, style = MaterialTheme.typography.bodyLarge)
            if (c.howIFelt.isNotBlank()) Text("Felt: ${c.howIFelt}", style = MaterialTheme.typography.bodyMedium)
            if (c.whatINeed.isNotBlank()) Text("Needs: ${c.whatINeed}", style = MaterialTheme.typography.bodyMedium)
            for (e in c.events.filter { it.text.isNotBlank() }) {
                Text("${names[e.partner] ?: e.partner}: ${e.text}", style = MaterialTheme.typography.bodyMedium)
            }
            if (item.canRespond) {
                OutlinedTextField(answer, { answer = it }, label = { Text("Your answer") },
                    modifier = Modifier.fillMaxWidth().testTag("answer-${c.id}"))
            }
            Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                if (item.canAcknowledge) {
                    Button(onClick = { onAcknowledge(c.id) }, modifier = Modifier.testTag("acknowledge-${c.id}")) {
                        Text(Words.ACKNOWLEDGE)
                    }
                }
                if (item.canRespond) {
                    OutlinedButton(
                        onClick = { onRespond(c.id, answer); answer = "" },
                        modifier = Modifier.testTag("respond-${c.id}"),
                    ) { Text(Words.RESPOND) }
                }
                if (item.canResolve) {
                    OutlinedButton(onClick = { onResolve(c.id) }, modifier = Modifier.testTag("resolve-${c.id}")) {
                        Text(Words.RESOLVE)
                    }
                }
            }
            if (item.canRenegotiate) {
                TextButton(
                    onClick = { onRenegotiate(c.id, answer); answer = "" },
                    modifier = Modifier.testTag("renegotiate-${c.id}"),
                ) { Text(Words.RENEGOTIATE_FROM_CONCERN) }
            }
        }
    }
}
