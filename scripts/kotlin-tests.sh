#!/usr/bin/env bash
# Builds accord-ffi, generates its Kotlin (and Swift) bindings and runs the Kotlin tests on a
# plain JVM (Maven). Needs cargo, a JDK (17+) and Maven; Maven downloads from Maven Central.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
lib_dir="$target_dir/debug"
case "$(uname -s)" in
  Darwin) lib="$lib_dir/libaccord_ffi.dylib" ;;
  *) lib="$lib_dir/libaccord_ffi.so" ;;
esac

# The whole workspace with its examples: the same features as the test build, so
# dependencies built for the tests are reused rather than built again.
echo "== cargo build --workspace --lib --bins --examples"
cargo build --workspace --lib --bins --examples
bindgen="$lib_dir/uniffi-bindgen"

gen="$root/tests/kotlin/target/generated-sources/uniffi"
rm -rf "$gen" "$root/target/swift-bindings"
echo "== generating Kotlin bindings into $gen"
"$bindgen" generate "$lib" --language kotlin --out-dir "$gen" --no-format
echo "== generating Swift bindings into target/swift-bindings (proves the API is Swift-representable)"
"$bindgen" generate "$lib" --language swift --out-dir "$root/target/swift-bindings" --no-format
ls "$root/target/swift-bindings"

echo "== mvn test (tests/kotlin)"
cd "$root/tests/kotlin"
# Reports of an earlier run must not count for this one (e.g. when compiling fails).
rm -rf target/surefire-reports
mvn -B -ntp test -Daccord.lib.dir="$lib_dir" 2>&1 | grep -Ev '^\[INFO\] (Download|Building|---|$)' || status=$?
MVN_STATUS="${status:-0}" python3 "$root/scripts/surefire-summary.py" kotlin
exit "${status:-0}"
