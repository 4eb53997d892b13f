// The shared screens (src/main/kotlin, also compiled for the desktop by ../../desktop/pom.xml)
// and the Rust library's Kotlin bindings generated with the Android settings.
plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
    alias(libs.plugins.kotlin.compose)
}

android {
    namespace = "org.accord.app"
    compileSdk = 35
    defaultConfig { minSdk = 26 }
    sourceSets["main"].kotlin.srcDirs("src/main/kotlin", "build/generated/uniffi")
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

kotlin { jvmToolchain(17) }

dependencies {
    api(libs.compose.ui)
    api(libs.compose.foundation)
    api(libs.compose.material3)
    api(libs.coroutines.android)
    api("${libs.jna.get()}@aar")
    implementation(libs.zxing.core)
}
