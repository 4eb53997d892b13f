package org.accord.app.onboarding

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.HorizontalDivider
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
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.unit.dp
import org.accord.app.RecoverySecret
import org.accord.app.Words
import org.accord.app.agreements.ErrorCard

/** Creating a couple space on this device, or joining the partner's with their ticket. */
@Composable
fun OnboardingScreen(
    state: OnboardingState,
    defaultTimeZone: String,
    onCreate: (name: String, timeZone: String) -> Unit,
    onJoin: (ticket: String, name: String, timeZone: String) -> Unit,
    onComeBack: (ticket: String, recoverySecret: String) -> Unit = { _, _ -> },
    onShowCode: (ticket: String) -> Unit = {},
    onSecretWrittenDown: () -> Unit = {},
    /** Scans a ticket's QR code and hands its text back (phones); null where there is no camera. */
    onScan: (((String) -> Unit) -> Unit)? = null,
    modifier: Modifier = Modifier,
) {
    var secret by remember { mutableStateOf("") }
    var name by remember { mutableStateOf("") }
    var zone by remember { mutableStateOf(defaultTimeZone) }
    var ticket by remember { mutableStateOf("") }
    Surface(modifier.fillMaxSize(), color = MaterialTheme.colorScheme.background) {
        Column(
            Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(24.dp),
            verticalArrangement = Arrangement.spacedBy(12.dp),
        ) {
            state.recoverySecret?.let { recovery ->
                Text("Your recovery secret", style = MaterialTheme.typography.headlineSmall)
                RecoverySecret(recovery, onSecretWrittenDown, Words.RECOVERY_SETUP_NOTE)
                return@Column
            }
            Text("Start your couple space", style = MaterialTheme.typography.headlineSmall)
            Text(
                "Your agreements stay on your devices and your partner's; no account, no server.",
                style = MaterialTheme.typography.bodyMedium,
            )
            OutlinedTextField(
                value = name,
                onValueChange = { name = it },
                label = { Text("Your name") },
                modifier = Modifier.fillMaxWidth().testTag("name"),
            )
            OutlinedTextField(
                value = zone,
                onValueChange = { zone = it },
                label = { Text("Your time zone") },
                modifier = Modifier.fillMaxWidth().testTag("zone"),
            )
            state.error?.let { ErrorCard(it) }
            Button(
                onClick = { onCreate(name, zone) },
                enabled = !state.busy,
                modifier = Modifier.testTag("create"),
            ) { Text("Create a new space") }
            HorizontalDivider()
            Text(
                "Or join your partner: on their device, invite your partner, then paste the ticket here.",
                style = MaterialTheme.typography.bodyMedium,
            )
            OutlinedTextField(
                value = ticket,
                onValueChange = { ticket = it },
                label = { Text("Ticket from your partner's device") },
                modifier = Modifier.fillMaxWidth().testTag("ticket-input"),
            )
            onScan?.let { scan ->
                OutlinedButton(onClick = { scan { ticket = it } }, modifier = Modifier.testTag("scan")) {
                    Text("Scan the QR code")
                }
            }
            OutlinedButton(
                onClick = { onJoin(ticket, name, zone) },
                enabled = !state.busy,
                modifier = Modifier.testTag("join"),
            ) { Text("Join") }
            HorizontalDivider()
            Text(
                "Another device of mine: on my other device, add a device, then paste its ticket above.",
                style = MaterialTheme.typography.bodyMedium,
            )
            val code = state.confirmationCode
            if (code == null) {
                OutlinedButton(onClick = { onShowCode(ticket) }, modifier = Modifier.testTag("show-code")) {
                    Text("Show the code")
                }
            } else {
                Text("Check that your other device shows this code, and confirm there:")
                Text(code, style = MaterialTheme.typography.headlineMedium, modifier = Modifier.testTag("code"))
                Button(
                    onClick = { onJoin(ticket, name, zone) },
                    enabled = !state.busy,
                    modifier = Modifier.testTag("join-mine"),
                ) { Text("It shows the same code: join") }
            }
            HorizontalDivider()
            Text(
                "Lost every device? Your partner invites you back; paste their ticket above and type your recovery secret.",
                style = MaterialTheme.typography.bodyMedium,
            )
            OutlinedTextField(
                value = secret,
                onValueChange = { secret = it },
                label = { Text("Your recovery secret") },
                modifier = Modifier.fillMaxWidth().testTag("secret-input"),
            )
            OutlinedButton(
                onClick = { onComeBack(ticket, secret) },
                enabled = !state.busy,
                modifier = Modifier.testTag("come-back"),
            ) { Text("Come back as myself") }
        }
    }
}
