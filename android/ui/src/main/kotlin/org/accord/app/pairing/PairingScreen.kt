package org.accord.app.pairing

import androidx.compose.foundation.Canvas
import androidx.compose.foundation.background
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.text.selection.SelectionContainer
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.material3.Card
import androidx.compose.material3.Button
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.runtime.Composable
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.setValue
import androidx.compose.runtime.getValue
import androidx.compose.runtime.remember
import androidx.compose.ui.Modifier
import androidx.compose.ui.geometry.Offset
import androidx.compose.ui.geometry.Size
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.unit.dp
import com.google.zxing.BarcodeFormat
import com.google.zxing.qrcode.QRCodeWriter
import org.accord.app.Words
import org.accord.app.agreements.ErrorCard

/** Inviting the partner: the ticket as a QR code and as text to paste on their device. */
@Composable
fun PairingScreen(
    state: PairingState,
    onNewTicket: () -> Unit,
    onBack: () -> Unit,
    modifier: Modifier = Modifier,
    returning: Boolean = false,
    mine: Boolean = false,
    onConfirm: (Boolean) -> Unit = {},
) {
    Surface(modifier.fillMaxSize(), color = MaterialTheme.colorScheme.background) {
        Column(
            Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp),
            verticalArrangement = Arrangement.spacedBy(12.dp),
        ) {
            TextButton(onClick = onBack, modifier = Modifier.testTag("back")) { Text(Words.BACK) }
            Text(
                when {
                    returning -> "Invite your partner back"
                    mine -> "Add another device of mine"
                    else -> "Invite your partner"
                },
                style = MaterialTheme.typography.headlineSmall,
            )
            Text(
                if (mine) {
                    "On your other device: choose \"another device of mine\", paste this ticket (or scan it) and show the code. " +
                        "Confirm here only if both show the same code."
                } else if (returning) {
                    "For your partner's new device after they lost every device: they join with this " +
                        "ticket and their recovery secret, which only they have. Their lost devices stop counting."
                } else {
                    "On their device: join with this ticket (scan the code or paste the text). " +
                        "It works once, for 10 minutes; pair while you are together."
                },
                style = MaterialTheme.typography.bodyMedium,
            )
            state.error?.let { ErrorCard(it) }
            state.request?.let { request ->
                Card(Modifier.fillMaxWidth().testTag("request")) {
                    Column(Modifier.padding(12.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
                        Text("${request.deviceName} wants to join as your device. Does it show this code?")
                        Text(request.code, style = MaterialTheme.typography.headlineMedium, modifier = Modifier.testTag("request-code"))
                        Button(onClick = { onConfirm(true) }, modifier = Modifier.testTag("same-code")) { Text("Same code: add it") }
                        OutlinedButton(onClick = { onConfirm(false) }, modifier = Modifier.testTag("not-same")) { Text("Not the same") }
                    }
                }
            }
            state.joined?.let { joined ->
                Card(Modifier.fillMaxWidth().testTag("joined")) {
                    Column(Modifier.padding(12.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
                        Text(joined, style = MaterialTheme.typography.titleMedium)
                        Text(Words.PAIRED, style = MaterialTheme.typography.bodyMedium)
                        Button(onClick = onBack, modifier = Modifier.testTag("done")) { Text(Words.DONE) }
                    }
                }
            }
            if (state.loading) Text(Words.LOADING)
            state.ticket?.let { ticket ->
                QrCode(ticket, Modifier.size(240.dp))
                SelectionContainer {
                    Text(
                        ticket,
                        style = MaterialTheme.typography.bodySmall,
                        modifier = Modifier.testTag("ticket"),
                    )
                }
                @Suppress("DEPRECATION") // LocalClipboard's suspend API needs a platform ClipEntry
                val clipboard = androidx.compose.ui.platform.LocalClipboardManager.current
                var copied by remember(ticket) { mutableStateOf(false) }
                OutlinedButton(
                    onClick = { clipboard.setText(androidx.compose.ui.text.AnnotatedString(ticket)); copied = true },
                    modifier = Modifier.testTag("copy-ticket"),
                ) { Text(if (copied) "Copied" else "Copy the ticket") }
            }
            OutlinedButton(onClick = onNewTicket, modifier = Modifier.testTag("new-ticket")) {
                Text("New ticket")
            }
        }
    }
}

/** [text] as a QR code (black on white whatever the theme, so cameras read it). */
@Composable
fun QrCode(text: String, modifier: Modifier = Modifier) {
    val matrix = remember(text) { QRCodeWriter().encode(text, BarcodeFormat.QR_CODE, 0, 0) }
    Canvas(
        modifier
            .background(Color.White)
            .padding(8.dp)
            .semantics { contentDescription = "QR code of the ticket" },
    ) {
        val cell = minOf(size.width / matrix.width, size.height / matrix.height)
        for (y in 0 until matrix.height) {
            for (x in 0 until matrix.width) {
                if (matrix.get(x, y)) {
                    drawRect(Color.Black, Offset(x * cell, y * cell), Size(cell, cell))
                }
            }
        }
    }
}
