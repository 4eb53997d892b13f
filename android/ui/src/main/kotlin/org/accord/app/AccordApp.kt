package org.accord.app

import androidx.compose.runtime.Composable
import androidx.compose.runtime.DisposableEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.job
import org.accord.app.agreements.AgreementsHolder
import org.accord.app.agreements.AgreementsScreen
import org.accord.app.core.AccordCore
import org.accord.app.detail.AgreementDetailHolder
import org.accord.app.detail.AgreementDetailScreen
import org.accord.app.theme.AccordTheme
import org.accord.core.AgreementId

/** The app's screens over [core]: the agreements, and one agreement's detail when opened. */
@Composable
fun AccordApp(core: AccordCore, dark: Boolean = false) {
    var open by remember { mutableStateOf<AgreementId?>(null) }
    AccordTheme(dark) {
        val id = open
        if (id == null) {
            val scope = rememberScreenScope(Unit)
            val holder = remember(scope) { AgreementsHolder(core, scope) }
            val state by holder.state.collectAsState()
            AgreementsScreen(state, onOpen = { open = it }, onCreate = holder::create)
        } else {
            val scope = rememberScreenScope(id)
            val holder = remember(scope) { AgreementDetailHolder(core, id, scope) }
            val state by holder.state.collectAsState()
            AgreementDetailScreen(state, onAccept = holder::accept, onBack = { open = null })
        }
    }
}

/** A scope for one screen's state holder, cancelled when the screen leaves the composition. */
@Composable
private fun rememberScreenScope(key: Any): CoroutineScope {
    val parent = rememberCoroutineScope()
    val scope = remember(key) {
        CoroutineScope(parent.coroutineContext + SupervisorJob(parent.coroutineContext.job))
    }
    DisposableEffect(scope) { onDispose { scope.cancel() } }
    return scope
}
