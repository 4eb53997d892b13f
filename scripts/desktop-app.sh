#!/usr/bin/env bash
# Starts the desktop app (one node per process). Arguments go to the app:
#   --data DIR (default ~/.local/share/accord-desktop), --network anywhere|local|relay-only, --dark
# Two can run at once (e.g. to try pairing on one computer, each with its own --data): the
# build is done under a lock, then each starts its own window.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
mkdir -p desktop/target
(
  flock 9
  cargo build -p accord-ffi --lib --bins
  gen="$root/desktop/target/generated-sources/uniffi"
  lib="$target_dir/debug/libaccord_ffi.so"
  if [ ! -f "$gen/org/accord/core/accord_core.kt" ] || [ "$lib" -nt "$gen/org/accord/core/accord_core.kt" ]; then
    rm -rf "$gen"
    "$target_dir/debug/uniffi-bindgen" generate "$lib" --language kotlin --out-dir "$gen" --no-format
  fi
  (cd desktop && mvn -B -q -ntp -Dkotlin.compiler.daemon=false -DskipTests compile)
) 9>"$root/desktop/target/.app-build.lock"
cd desktop
mvn -B -q -ntp -Daccord.lib.dir="$target_dir/debug" exec:java -Dexec.args="$*"
