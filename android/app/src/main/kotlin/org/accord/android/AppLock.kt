package org.accord.android

import android.content.Context
import androidx.biometric.BiometricManager.Authenticators.BIOMETRIC_WEAK
import androidx.biometric.BiometricManager.Authenticators.DEVICE_CREDENTIAL
import androidx.biometric.BiometricPrompt
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.material3.Button
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.core.content.ContextCompat
import androidx.fragment.app.FragmentActivity

/**
 * The optional app lock: the phone's biometrics or its screen lock when Accord opens and when it
 * returns after a minute away. Off by default (a shared phone's owner turns it on).
 */
object AppLock {
    const val AFTER_MS = 60_000L

    fun enabled(context: Context) = context.getSharedPreferences("device", Context.MODE_PRIVATE).getBoolean("appLock", false)

    fun set(context: Context, on: Boolean) {
        context.getSharedPreferences("device", Context.MODE_PRIVATE).edit().putBoolean("appLock", on).apply()
    }

    /** Asks for the device owner; [done] gets whether they passed. */
    fun ask(activity: FragmentActivity, done: (Boolean) -> Unit) {
        val prompt = BiometricPrompt(
            activity,
            ContextCompat.getMainExecutor(activity),
            object : BiometricPrompt.AuthenticationCallback() {
                override fun onAuthenticationSucceeded(result: BiometricPrompt.AuthenticationResult) = done(true)
                override fun onAuthenticationError(code: Int, message: CharSequence) = done(false)
            },
        )
        prompt.authenticate(
            BiometricPrompt.PromptInfo.Builder()
                .setTitle("Open your agreements")
                .setAllowedAuthenticators(BIOMETRIC_WEAK or DEVICE_CREDENTIAL)
                .build(),
        )
    }
}

/** What shows while the lock is closed: nothing of the space. */
@Composable
fun LockedScreen(onUnlock: () -> Unit) {
    Column(
        Modifier.fillMaxSize(),
        verticalArrangement = Arrangement.Center,
        horizontalAlignment = Alignment.CenterHorizontally,
    ) {
        Text("Accord is locked")
        Button(onClick = onUnlock) { Text("Unlock") }
    }
}
