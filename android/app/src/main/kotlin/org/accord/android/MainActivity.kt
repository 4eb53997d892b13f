package org.accord.android

import android.Manifest
import android.content.pm.PackageManager
import android.net.ConnectivityManager
import android.net.Network
import android.os.Build
import android.os.Bundle
import android.os.SystemClock
import androidx.activity.compose.setContent
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.isSystemInDarkTheme
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.Text
import androidx.compose.runtime.getValue
import androidx.compose.runtime.key
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.fragment.app.FragmentActivity
import androidx.lifecycle.lifecycleScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.launch
import org.accord.app.AccordApp
import org.accord.app.core.RustCore
import org.accord.app.core.RustSpaces
import org.accord.ffi.AccordNode
import java.time.ZoneId

/**
 * The app's one screen host: the node runs between onStart and onStop (held by the process's
 * [org.accord.app.background.SpaceHolder]); the shared screens run over it.
 */
class MainActivity : FragmentActivity() {
    private val app get() = application as AccordApplication
    private var core by mutableStateOf<RustCore?>(null)
    private var failure by mutableStateOf<String?>(null)
    private var locked by mutableStateOf(false)
    private var stoppedAt = 0L
    /** Opening the node and following its changes while started. */
    private var following: Job? = null
    private var networkCallback: ConnectivityManager.NetworkCallback? = null
    private val askNotifications = registerForActivityResult(ActivityResultContracts.RequestPermission()) {}
    private val scanner = registerForActivityResult(ScannerActivity.Contract()) { scanned ->
        scanned?.let { pendingScan?.invoke(it) }
        pendingScan = null
    }
    private var pendingScan: ((String) -> Unit)? = null

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        locked = AppLock.enabled(this)
        setContent {
            val opened = core
            when {
                locked -> LockedScreen { AppLock.ask(this) { ok -> locked = !ok } }
                opened == null && app.holdsSpace() -> Box(Modifier.fillMaxSize(), contentAlignment = Alignment.Center) {
                    failure?.let { Text(it) } ?: CircularProgressIndicator()
                }
                else -> key(opened) {
                    AccordApp(
                        start = opened,
                        spaces = RustSpaces(app.dataDir.path, app.settings.network(), Build.MODEL),
                        defaultTimeZone = ZoneId.systemDefault().id,
                        settings = app.settings,
                        dark = isSystemInDarkTheme(),
                        onSpace = { made -> handOver(made as RustCore) },
                        onScan = { found -> pendingScan = found; scanner.launch(Unit) },
                        onLeft = {
                            core = null
                            lifecycleScope.launch {
                                app.holder.background()
                                AndroidAlarms(app).let { alarms -> alarms.scheduled().forEach(alarms::cancel) }
                            }
                        },
                    )
                }
            }
        }
    }

    override fun onStart() {
        super.onStart()
        if (AppLock.enabled(this) && stoppedAt > 0 && SystemClock.elapsedRealtime() - stoppedAt > AppLock.AFTER_MS) {
            locked = true
            AppLock.ask(this) { ok -> locked = !ok }
        }
        if (app.holdsSpace()) open()
        askForNotifications()
        followNetwork()
    }

    override fun onStop() {
        stoppedAt = SystemClock.elapsedRealtime()
        following?.cancel()
        following = null
        networkCallback?.let { getSystemService(ConnectivityManager::class.java).unregisterNetworkCallback(it) }
        networkCallback = null
        val closing = app.holder
        core = null
        // Flush and close: a phone may kill a stopped app without warning.
        app.applicationScope.launch { closing.background() }
        super.onStop()
    }

    private fun open() {
        following?.cancel()
        following = lifecycleScope.launch {
            try {
                val node: AccordNode = app.holder.foreground()
                val opened = RustCore(node)
                core = opened
                failure = null
                // Alarms follow the reminders on every change of the space while the app runs.
                opened.changes().collect { runCatching { Reminders.reconcile(app) } }
            } catch (e: Exception) {
                failure = e.message ?: e.toString()
            }
        }
    }

    /** Onboarding made the space with its own node: close it and open it as the process's. */
    private fun handOver(made: RustCore) {
        lifecycleScope.launch {
            made.node.shutdown()
            open()
        }
    }

    private fun askForNotifications() {
        if (Build.VERSION.SDK_INT >= 33 &&
            checkSelfPermission(Manifest.permission.POST_NOTIFICATIONS) != PackageManager.PERMISSION_GRANTED
        ) {
            askNotifications.launch(Manifest.permission.POST_NOTIFICATIONS)
        }
    }

    /** Tells the node when the network changed (Wi-Fi to mobile and back), while it runs. */
    private fun followNetwork() {
        val callback = object : ConnectivityManager.NetworkCallback() {
            override fun onAvailable(network: Network) {
                val running = core ?: return
                lifecycleScope.launch { runCatching { running.node.networkChanged() } }
            }
        }
        getSystemService(ConnectivityManager::class.java).registerDefaultNetworkCallback(callback)
        networkCallback = callback
    }
}
