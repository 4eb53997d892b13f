package org.accord.app.devices

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.text.selection.SelectionContainer
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.foundation.layout.Row
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.unit.dp
import org.accord.app.RecoverySecret
import org.accord.app.SubScreen
import org.accord.app.Words
import org.accord.app.agreements.ErrorCard
import org.accord.app.pairing.QrCode
import org.accord.core.DeviceId
import org.accord.ffi.NetworkMode
import androidx.compose.foundation.selection.selectable
import androidx.compose.foundation.selection.selectableGroup
import androidx.compose.material3.RadioButton
import androidx.compose.ui.Alignment
import androidx.compose.ui.semantics.Role

/**
 * An action that cannot be undone: a red [label] first, then [question] with [confirm] and
 * "Cancel". Test tags: [tag], "$tag-for-sure", "$tag-cancel".
 */
@Composable
private fun AskedFirst(label: String, question: String, confirm: String, tag: String, onConfirm: () -> Unit) {
    var asking by remember { mutableStateOf(false) }
    if (!asking) {
        TextButton(onClick = { asking = true }, modifier = Modifier.testTag(tag)) {
            Text(label, color = MaterialTheme.colorScheme.error)
        }
        return
    }
    Card(Modifier.fillMaxWidth()) {
        Column(Modifier.padding(12.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
            Text(question, style = MaterialTheme.typography.bodyMedium)
            Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                Button(onClick = { asking = false; onConfirm() }, modifier = Modifier.testTag("$tag-for-sure")) {
                    Text(confirm)
                }
                OutlinedButton(onClick = { asking = false }, modifier = Modifier.testTag("$tag-cancel")) {
                    Text(Words.CANCEL)
                }
            }
        }
    }
}

/**
 * Who is in the space, each device's sync status, unpairing one's own devices, recovery, and
 * this device's settings: network mode and export.
 */
@Composable
fun DevicesScreen(
    state: DevicesState,
    onUnpair: (DeviceId) -> Unit,
    onNewRecoverySecret: () -> Unit,
    onSecretWrittenDown: () -> Unit,
    onEndPairing: () -> Unit = {},
    onInviteBack: () -> Unit = {},
    onNetwork: (NetworkMode) -> Unit = {},
    onExport: () -> Unit = {},
    onSyncNow: () -> Unit = {},
    onAddDevice: () -> Unit = {},
    onLeaveAndDelete: () -> Unit = {},
    onBack: () -> Unit,
    modifier: Modifier = Modifier,
) {
    SubScreen(Words.DEVICES, state.error, onBack, modifier) {
        val info = state.info ?: run {
            if (state.loading) Text(Words.LOADING)
            return@SubScreen
        }
        info.readOnly?.let { ErrorCard(it) }
        info.ending?.let { Text("The pairing ended.", style = MaterialTheme.typography.bodyLarge) }
        for (partner in info.partners) {
            val me = partner.id == info.me
            Text(
                (if (me) "You: " else "Partner: ") + partner.name + " (${partner.timeZone})",
                style = MaterialTheme.typography.titleMedium,
                color = MaterialTheme.colorScheme.primary,
                modifier = Modifier.padding(top = 8.dp),
            )
            Text(
                if (partner.hasRecovery) {
                    "${partner.name} can come back with a recovery secret"
                } else {
                    "${partner.name} has no recovery secret yet"
                },
                style = MaterialTheme.typography.bodySmall,
            )
            for (device in info.devices.filter { it.partner == partner.id }) {
                val status = when {
                    device.id == info.myDevice -> Words.THIS_DEVICE
                    device.removed -> "unpaired"
                    state.hasAllMyChanges[device.id] == true -> Words.HAS_ALL
                    else -> Words.WAITING_SYNC
                }
                Card(Modifier.fillMaxWidth().testTag("device-${device.id.take(8)}")) {
                    Column(Modifier.padding(12.dp)) {
                        Text(device.name.ifBlank { "A device" }, style = MaterialTheme.typography.bodyLarge)
                        Text(status, style = MaterialTheme.typography.bodySmall)
                        if (me && !device.removed && device.id != info.myDevice) {
                            OutlinedButton(onClick = { onUnpair(device.id) },
                                modifier = Modifier.testTag("unpair-${device.id.take(8)}")) { Text(Words.UNPAIR) }
                        }
                    }
                }
            }
        }
        if (info.devices.count { !it.removed } > 1) {
            Button(onClick = onSyncNow, enabled = !state.syncing, modifier = Modifier.testTag("sync-now")) {
                Text(if (state.syncing) "Syncing…" else Words.SYNC_NOW)
            }
            state.syncOutcome?.let {
                Text(it, style = MaterialTheme.typography.bodyMedium, modifier = Modifier.testTag("sync-outcome"))
            }
        }
        if (info.readOnly == null) {
            OutlinedButton(onClick = onAddDevice, modifier = Modifier.testTag("add-device")) {
                Text("Add another device of mine")
            }
        }
        if (info.ending == null && info.partners.size == 2) {
            OutlinedButton(onClick = onInviteBack, modifier = Modifier.testTag("invite-back")) {
                Text("Invite your partner back (they lost every device)")
            }
            AskedFirst(Words.END_PAIRING, Words.END_PAIRING_CONFIRM, Words.END_FOR_SURE, "end-pairing", onEndPairing)
        }
        Text("Recovery", style = MaterialTheme.typography.titleMedium,
            color = MaterialTheme.colorScheme.primary, modifier = Modifier.padding(top = 8.dp))
        val secret = state.newRecoverySecret
        if (secret != null) {
            RecoverySecret(secret, onSecretWrittenDown)
        } else {
            OutlinedButton(onClick = onNewRecoverySecret, modifier = Modifier.testTag("new-recovery")) {
                Text(Words.NEW_RECOVERY)
            }
        }
        Settings(state, onNetwork, onExport)
        AskedFirst(Words.LEAVE, Words.LEAVE_CONFIRM, Words.LEAVE_FOR_SURE, "leave", onLeaveAndDelete)
    }
}

/** This device's network mode (the node restarts with it) and the export. */
@Composable
private fun Settings(state: DevicesState, onNetwork: (NetworkMode) -> Unit, onExport: () -> Unit) {
    Text(Words.NETWORK, style = MaterialTheme.typography.titleMedium,
        color = MaterialTheme.colorScheme.primary, modifier = Modifier.padding(top = 8.dp))
    Column(Modifier.selectableGroup()) {
        for (mode in listOf(NetworkMode.PRODUCTION, NetworkMode.LOCAL, NetworkMode.RELAY_ONLY)) {
            val (name, meaning) = Words.network(mode)
            Row(
                Modifier.fillMaxWidth()
                    .selectable(
                        selected = state.network == mode,
                        enabled = !state.switchingNetwork,
                        role = Role.RadioButton,
                        onClick = { onNetwork(mode) },
                    )
                    .padding(vertical = 4.dp)
                    .testTag("network-${mode.name.lowercase()}"),
                verticalAlignment = Alignment.CenterVertically,
            ) {
                RadioButton(selected = state.network == mode, onClick = null)
                Column(Modifier.padding(start = 8.dp)) {
                    Text(name, style = MaterialTheme.typography.bodyLarge)
                    Text(meaning, style = MaterialTheme.typography.bodySmall)
                }
            }
        }
    }
    if (state.switchingNetwork) Text("Reconnecting…", style = MaterialTheme.typography.bodySmall)
    Text("Export", style = MaterialTheme.typography.titleMedium,
        color = MaterialTheme.colorScheme.primary, modifier = Modifier.padding(top = 8.dp))
    Text(Words.EXPORT_NOTE, style = MaterialTheme.typography.bodyMedium)
    OutlinedButton(onClick = onExport, modifier = Modifier.testTag("export")) { Text(Words.EXPORT) }
    state.exportedTo?.let {
        Text("Saved to $it", style = MaterialTheme.typography.bodySmall, modifier = Modifier.testTag("exported-to"))
    }
}

