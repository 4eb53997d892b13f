#!/usr/bin/env bash
# Figures for the Compose screens with 500 agreements (prints them; asserts nothing about time):
# node open to the first frame of the list, a partner's change to the list holder's new state,
# peak resident memory. Run by hand: ./scripts/desktop-bench.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/desktop-tests.sh" >/dev/null
target_dir="$(cd "$root" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
cd "$root/desktop"
# The library as an app ships it: a release build (with the test hook the test classes link).
(cd "$root" && cargo build -p accord-ffi --lib --release --features test-hooks)
mvn -B -ntp -Dkotlin.compiler.daemon=false -Daccord.lib.dir="$target_dir/release" \
  -Daccord.bench=true -Dtest=ScreensBench -Dsurefire.failIfNoSpecifiedTests=false test \
  | grep -E '^(screens bench|  )' 
