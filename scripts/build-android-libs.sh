#!/usr/bin/env bash
# Builds the Rust library for the Android app (arm64-v8a, armeabi-v7a, x86_64) with cargo-ndk
# into android/app/src/main/jniLibs, and generates its Kotlin bindings with the Android
# settings into android/ui/build/generated/uniffi. Needs the Android NDK (ANDROID_NDK_HOME) and
# the Rust targets; installs cargo-ndk when missing. Not run here: this machine has no NDK.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
: "${ANDROID_NDK_HOME:?set ANDROID_NDK_HOME to the Android NDK (Android Studio: SDK Manager, NDK)}"
command -v cargo-ndk >/dev/null || cargo install cargo-ndk --locked
rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
cargo ndk -t arm64-v8a -t armeabi-v7a -t x86_64 -o android/app/src/main/jniLibs \
  build --release -p accord-ffi --lib
# Bindings from the host build (the same API); uniffi's Kotlin loads libaccord_ffi.so by name.
cargo build -p accord-ffi --lib --bins
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
gen="$root/android/ui/build/generated/uniffi"
rm -rf "$gen"
"$target_dir/debug/uniffi-bindgen" generate "$target_dir/debug/libaccord_ffi.so" --language kotlin --out-dir "$gen"
echo "Built android/app/src/main/jniLibs and $gen; open android/ in Android Studio and run the app."
