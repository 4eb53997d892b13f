package org.accord.app.agreements

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.Spacer
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.CardDefaults
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.unit.dp
import org.accord.app.Words
import org.accord.core.AgreementId
import org.accord.core.AgreementSummary

/** The agreements screen: a field to write a new one, what waits for me, then by category. */
@Composable
fun AgreementsScreen(
    state: AgreementsState,
    onOpen: (AgreementId) -> Unit,
    onCreate: (String) -> Unit,
    onInvite: () -> Unit,
    onConcerns: () -> Unit = {},
    onCheckin: () -> Unit = {},
    onDevices: () -> Unit = {},
    onReminders: () -> Unit = {},
    modifier: Modifier = Modifier,
) {
    Surface(modifier.fillMaxSize(), color = MaterialTheme.colorScheme.background) {
        LazyColumn(
            Modifier.fillMaxSize().padding(horizontal = 16.dp),
            verticalArrangement = Arrangement.spacedBy(8.dp),
        ) {
            item {
                Text(
                    Words.OUR_AGREEMENTS,
                    style = MaterialTheme.typography.headlineSmall,
                    modifier = Modifier.padding(top = 16.dp).semantics { heading() },
                )
            }
            item {
                Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                    OutlinedButton(onClick = onConcerns, modifier = Modifier.testTag("concerns")) {
                        Text(Words.CONCERNS)
                    }
                    OutlinedButton(onClick = onCheckin, modifier = Modifier.testTag("checkin")) {
                        Text(Words.CHECK_IN)
                    }
                }
            }
            item {
                Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                    OutlinedButton(onClick = onReminders, modifier = Modifier.testTag("reminders")) {
                        Text(Words.REMINDERS)
                    }
                    OutlinedButton(onClick = onDevices, modifier = Modifier.testTag("devices")) {
                        Text("Devices")
                    }
                }
            }
            if (!state.loading && !state.partnerJoined) {
                item {
                    OutlinedButton(onClick = onInvite, modifier = Modifier.testTag("invite")) {
                        Text(Words.INVITE_PARTNER)
                    }
                }
            }
            item { NewAgreementField(onCreate) }
            state.error?.let { message -> item { ErrorCard(message) } }
            if (state.loading) item { Text(Words.LOADING) }
            if (state.empty) {
                item {
                    Text(
                        Words.NO_AGREEMENTS,
                        style = MaterialTheme.typography.bodyLarge,
                        modifier = Modifier.testTag("empty"),
                    )
                }
            }
            if (state.waitingForMe.isNotEmpty()) {
                item { SectionTitle(Words.WAITING_FOR_YOU) }
                items(state.waitingForMe, key = { "waiting-" + it.id }) { agreement ->
                    AgreementRow(agreement, highlighted = true) { onOpen(agreement.id) }
                }
            }
            for (section in state.sections) {
                item(key = "section-" + section.title) { SectionTitle(section.title) }
                items(section.agreements, key = { it.id }) { agreement ->
                    AgreementRow(agreement, highlighted = false) { onOpen(agreement.id) }
                }
            }
            item { Spacer(Modifier.padding(bottom = 16.dp)) }
        }
    }
}

@Composable
private fun NewAgreementField(onCreate: (String) -> Unit) {
    var title by remember { mutableStateOf("") }
    Column(Modifier.fillMaxWidth(), horizontalAlignment = Alignment.End) {
        OutlinedTextField(
            value = title,
            onValueChange = { title = it },
            label = { Text(Words.NEW_AGREEMENT_HINT) },
            modifier = Modifier.fillMaxWidth().testTag("new-title"),
        )
        Button(
            onClick = {
                onCreate(title)
                if (title.isNotBlank()) title = ""
            },
            modifier = Modifier.padding(top = 8.dp).testTag("add"),
        ) { Text(Words.ADD) }
    }
}

@Composable
private fun SectionTitle(title: String) {
    Text(
        title,
        style = MaterialTheme.typography.titleMedium,
        color = MaterialTheme.colorScheme.primary,
        modifier = Modifier.padding(top = 12.dp).semantics { heading() },
    )
}

@Composable
private fun AgreementRow(agreement: AgreementSummary, highlighted: Boolean, onClick: () -> Unit) {
    val colors = if (highlighted) {
        CardDefaults.cardColors(containerColor = MaterialTheme.colorScheme.secondaryContainer)
    } else {
        CardDefaults.cardColors()
    }
    val status = Words.status(agreement.status)
    val strength = Words.strength(agreement.strength)
    Card(
        colors = colors,
        modifier = Modifier
            .fillMaxWidth()
            .clickable(onClick = onClick)
            .semantics { contentDescription = describe(agreement) },
    ) {
        Column(Modifier.padding(12.dp)) {
            Text(agreement.title, style = MaterialTheme.typography.bodyLarge)
            Text(
                "$status · $strength",
                style = MaterialTheme.typography.bodySmall,
                color = MaterialTheme.colorScheme.onSurfaceVariant,
            )
        }
    }
}

/** What a screen reader says for an agreement in a list. */
fun describe(agreement: AgreementSummary): String =
    "${agreement.title.trimEnd('.')}. ${Words.status(agreement.status)}. ${Words.strength(agreement.strength)}."

/** The core's message for a failed call, on the screen. */
@Composable
fun ErrorCard(message: String) {
    Card(
        colors = CardDefaults.cardColors(containerColor = MaterialTheme.colorScheme.errorContainer),
        modifier = Modifier.fillMaxWidth().testTag("error"),
    ) {
        Text(
            message,
            color = MaterialTheme.colorScheme.onErrorContainer,
            modifier = Modifier.padding(12.dp),
        )
    }
}
