#!/usr/bin/env bash
# Starts the desktop app (one node per process). Arguments go to the app:
#   --data DIR (default ~/.local/share/accord-desktop), --network local|relay-only, --dark
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
cargo build -p accord-ffi --lib --bins
gen="$root/desktop/target/generated-sources/uniffi"
rm -rf "$gen"
"$target_dir/debug/uniffi-bindgen" generate "$target_dir/debug/libaccord_ffi.so" --language kotlin --out-dir "$gen" --no-format
cd desktop
mvn -B -q -ntp -Dkotlin.compiler.daemon=false -DskipTests -Daccord.lib.dir="$target_dir/debug" \
  compile exec:java -Dexec.args="$*"
