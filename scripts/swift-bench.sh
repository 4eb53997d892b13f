#!/usr/bin/env bash
# AccordKit's figure (the release library): listing 500 agreements through the Swift service,
# and a store's refresh
# (prints them; asserts nothing about time). Run by hand: ./scripts/swift-bench.sh
set -euo pipefail
ACCORD_LIB_PROFILE=release ACCORD_SWIFT_FILTER=BenchTests ACCORD_BENCH=1 "$(dirname "$0")/swift-tests.sh" | grep -E 'accordkit bench|swift:'
