package org.accord.app.theme

import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.darkColorScheme
import androidx.compose.material3.lightColorScheme
import androidx.compose.runtime.Composable
import androidx.compose.ui.graphics.Color

private val Light = lightColorScheme(
    primary = Color(0xFF4A5D8F),
    secondary = Color(0xFF7A5C61),
    tertiary = Color(0xFF5B6B3F),
)

private val Dark = darkColorScheme(
    primary = Color(0xFFB3C5FF),
    secondary = Color(0xFFE9BDC3),
    tertiary = Color(0xFFC1D39B),
)

/** Accord's Material 3 theme, light or dark. */
@Composable
fun AccordTheme(dark: Boolean = false, content: @Composable () -> Unit) {
    MaterialTheme(colorScheme = if (dark) Dark else Light, content = content)
}
