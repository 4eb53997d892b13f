package org.accord.app.onboarding

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
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
import org.accord.app.agreements.ErrorCard

/** Creating a couple space on this device: your name and time zone. */
@Composable
fun OnboardingScreen(
    defaultTimeZone: String,
    error: String?,
    onCreate: (name: String, timeZone: String) -> Unit,
    modifier: Modifier = Modifier,
) {
    var name by remember { mutableStateOf("") }
    var zone by remember { mutableStateOf(defaultTimeZone) }
    Surface(modifier.fillMaxSize(), color = MaterialTheme.colorScheme.background) {
        Column(
            Modifier.fillMaxSize().padding(24.dp),
            verticalArrangement = Arrangement.spacedBy(12.dp),
        ) {
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
            error?.let { ErrorCard(it) }
            Button(onClick = { onCreate(name, zone) }, modifier = Modifier.testTag("create")) {
                Text("Create")
            }
        }
    }
}
