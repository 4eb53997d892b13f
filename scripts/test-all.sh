#!/usr/bin/env bash
# Runs every test of the project. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=never
# Property tests: at least a thousand cases (override with PROPTEST_CASES).
export PROPTEST_CASES="${PROPTEST_CASES:-1000}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

echo "== Rust: every test of the workspace (unit, integration, end-to-end CLI)"
cargo test --workspace --lib --bins --tests 2>&1 | tee "$log"

echo "== Network namespaces: discovery, packet loss, link cut (must run when CI is set)"
./tests/netns/run.sh 2>&1 | tee -a "$log"

echo "== Kotlin on a JVM against the real library (and the Swift bindings generated)"
./scripts/kotlin-tests.sh 2>&1 | tee -a "$log"

echo "== Rust: benches and examples compile (benches are run by hand, see README)"
# Compiled in the test profile (already built above) to keep CI short; `cargo bench` runs
# them optimised.
cargo test --workspace --benches --no-run
cargo build --workspace --examples

passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{ n += $1 } END { print n + 0 }')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{ n += $1 } END { print n + 0 }')
echo "tests: ${passed} passed, ${failed} failed"
[ "$failed" = 0 ]
