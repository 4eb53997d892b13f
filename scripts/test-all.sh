#!/usr/bin/env bash
# Runs every test of the project. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=never
# Property tests: at least a thousand cases (override with PROPTEST_CASES).
export PROPTEST_CASES="${PROPTEST_CASES:-1000}"

echo "== Rust: every test of the workspace"
cargo test --workspace

echo "== Network namespaces: discovery, packet loss, link cut (must run when CI is set)"
./tests/netns/run.sh

echo "== Rust: benches and examples compile (benches are run by hand, see README)"
cargo bench --workspace --no-run
cargo build --workspace --examples
