// The Android app. Open this folder in Android Studio (Ladybug or newer). Before the first
// build, run ../scripts/build-android-libs.sh: it builds the Rust library for the phone ABIs
// into app/src/main/jniLibs and generates its Kotlin bindings into ui/build/generated/uniffi.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}
dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}
rootProject.name = "Accord"
include(":app", ":ui")
