package org.accord.app

import androidx.compose.foundation.layout.size
import androidx.compose.foundation.text.selection.SelectionContainer
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.unit.dp
import org.accord.app.pairing.QrCode

/** A recovery secret shown once: [note] (what it is for), the text, its QR code, "I wrote it down". */
@Composable
fun RecoverySecret(secret: String, onWrittenDown: () -> Unit, note: String = Words.RECOVERY_NOTE) {
    Text(note, style = MaterialTheme.typography.bodyMedium)
    SelectionContainer {
        Text(secret, style = MaterialTheme.typography.titleLarge, modifier = Modifier.testTag("recovery-secret"))
    }
    QrCode(secret, Modifier.size(180.dp))
    Button(onClick = onWrittenDown, modifier = Modifier.testTag("written-down")) {
        Text("I wrote it down")
    }
}
