#!/usr/bin/env bash
# Runs every test of the project. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=never
# A full run is not an edit loop: incremental caches would only take disk space.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# Property tests: at least a thousand cases (override with PROPTEST_CASES).
export PROPTEST_CASES="${PROPTEST_CASES:-1000}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

started=$SECONDS
phase_started=$SECONDS
phase() {
  [ "$phase_started" = "$SECONDS" ] || echo "   ($((SECONDS - phase_started)) s)"
  phase_started=$SECONDS
  echo "== $1"
}

phase "Rust: build every target once (tests, benches, examples) in the test profile"
# Benches and examples are only compiled here; `cargo bench` runs them optimised (README).
cargo test --workspace --all-targets --no-run

phase "Rust: every test of the workspace (unit, integration, end-to-end CLI)"
cargo test --workspace --lib --bins --tests 2>&1 | tee "$log"

phase "Network namespaces: discovery, packet loss, link cut (must run when CI is set)"
./tests/netns/run.sh 2>&1 | tee -a "$log"

phase "Kotlin on a JVM against the real library (and the Swift bindings generated)"
./scripts/kotlin-tests.sh 2>&1 | tee -a "$log"

phase "The Compose screens on the JVM: state holders, clicked through, screenshots"
./scripts/desktop-tests.sh 2>&1 | tee -a "$log"

phase "Swift: AccordKit built and tested in a Debian trixie root, the iOS app's files parsed"
./scripts/swift-tests.sh 2>&1 | tee -a "$log"

phase "done"
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
echo "build directory: $(du -sh "$target_dir" | cut -f1); total time: $((SECONDS - started)) s"

passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{ n += $1 } END { print n + 0 }')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{ n += $1 } END { print n + 0 }')
echo "tests: ${passed} passed, ${failed} failed"
[ "$failed" = 0 ]
