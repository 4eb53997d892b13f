package org.accord.app.detail

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.unit.dp
import org.accord.app.Words
import org.accord.app.agreements.ErrorCard

/** One agreement: its words, strength, category, who accepted, and "accept" when it is mine to give. */
@Composable
fun AgreementDetailScreen(
    state: DetailState,
    onAccept: () -> Unit,
    onBack: () -> Unit,
    modifier: Modifier = Modifier,
) {
    Surface(modifier.fillMaxSize(), color = MaterialTheme.colorScheme.background) {
        Column(
            Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp),
            verticalArrangement = Arrangement.spacedBy(8.dp),
        ) {
            TextButton(onClick = onBack, modifier = Modifier.testTag("back")) { Text(Words.BACK) }
            state.error?.let { ErrorCard(it) }
            val details = state.details
            if (details == null) {
                if (state.loading) Text(Words.LOADING)
                return@Column
            }
            val summary = details.summary
            Text(summary.title, style = MaterialTheme.typography.headlineSmall)
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
            when {
                state.acceptedByMe -> Text(Words.ACCEPTED_BY_YOU, modifier = Modifier.testTag("accepted"))
                state.canAccept -> Button(onClick = onAccept, modifier = Modifier.testTag("accept")) {
                    Text(Words.ACCEPT)
                }
            }
        }
    }
}
