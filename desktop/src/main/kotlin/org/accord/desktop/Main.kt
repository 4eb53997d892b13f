package org.accord.desktop

import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.unit.dp
import androidx.compose.ui.window.Window
import androidx.compose.ui.window.application
import androidx.compose.ui.window.rememberWindowState
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.accord.app.AccordApp
import org.accord.app.core.RustCore
import org.accord.app.onboarding.OnboardingScreen
import org.accord.app.theme.AccordTheme
import org.accord.ffi.AccordNode
import org.accord.ffi.NetworkMode
import java.io.File
import java.time.ZoneId

/** Where this desktop device keeps its copy unless `--data DIR` says otherwise. */
private fun defaultDataDir(): File {
    val base = System.getenv("XDG_DATA_HOME")?.let(::File)
        ?: File(System.getProperty("user.home"), ".local/share")
    return File(base, "accord-desktop")
}

/** Whether [dir] holds a space already. */
private fun holdsSpace(dir: File) =
    File(dir, "changes.log").exists() || File(dir, "snapshot.bin").exists()

/**
 * The desktop app: one node per process over the data directory (`--data DIR`), the same
 * screens as the Android app. `--network local` keeps it on the LAN; `--dark` for the dark theme.
 */
fun main(args: Array<String>) {
    val dir = args.indexOf("--data").takeIf { it >= 0 }?.let { File(args[it + 1]) } ?: defaultDataDir()
    val network = when (args.indexOf("--network").takeIf { it >= 0 }?.let { args[it + 1] }) {
        "local" -> NetworkMode.LOCAL
        "relay-only" -> NetworkMode.RELAY_ONLY
        else -> NetworkMode.PRODUCTION
    }
    val dark = "--dark" in args
    val existing = if (holdsSpace(dir)) runBlocking { AccordNode.open(dir.path, network) } else null
    application {
        var node by remember { mutableStateOf(existing) }
        var error by remember { mutableStateOf<String?>(null) }
        val scope = rememberCoroutineScope()
        Window(
            onCloseRequest = {
                runBlocking { node?.shutdown() }
                exitApplication()
            },
            title = "Accord",
            state = rememberWindowState(width = 480.dp, height = 800.dp),
        ) {
            val current = node
            if (current != null) {
                val core = remember(current) { RustCore(current) }
                AccordApp(core, dark)
            } else {
                AccordTheme(dark) {
                    OnboardingScreen(ZoneId.systemDefault().id, error, onCreate = { name, zone ->
                        scope.launch {
                            try {
                                node = AccordNode.create(dir.path, name, zone, "Desktop", network)
                            } catch (e: Exception) {
                                error = e.message
                            }
                        }
                    })
                }
            }
        }
    }
}
