#!/usr/bin/env bash
# Benchmark through the Kotlin bindings on a JVM (release build of the library): list 500
# agreements and one durable edit. Prints the figures.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
# `test-hooks`: the tests compiled beside the benchmark call `debugPanic`, which release
# builds of the app's library do not export.
cargo build --release -p accord-ffi --features test-hooks
gen="$root/tests/kotlin/target/generated-sources/uniffi"
rm -rf "$gen"
cargo run -q -p accord-ffi --bin uniffi-bindgen -- generate "$target_dir/release/libaccord_ffi.so" --language kotlin --out-dir "$gen" --no-format
cd tests/kotlin
mvn -B -ntp test -Daccord.lib.dir="$target_dir/release" -Dtest=BindingsBench -Daccord.excluded.groups=none -Dsurefire.failIfNoSpecifiedTests=false 2>&1 | grep -E "kotlin bench|Tests run:|FAIL|ERROR" || true
