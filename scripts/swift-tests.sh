#!/usr/bin/env bash
# AccordKit (ios/AccordKit) compiled and tested on Linux against the real library, and every
# Swift file of the iOS app parsed. There is no Swift for this Debian release, so Swift runs in
# a Debian trixie root (debootstrap + Debian's swiftlang 6.0.3) kept at $ACCORD_SWIFT_ROOT
# (default /var/cache/accord/swift-trixie) and reused when present. Needs root (debootstrap,
# chroot, mounts): with CI set, failing to set it up fails this script; elsewhere it skips
# with the reason. What it mounts it unmounts, also on failure.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
swift_root="${ACCORD_SWIFT_ROOT:-/var/cache/accord/swift-trixie}"

cannot() {
  if [ -n "${CI:-}" ]; then
    echo "swift: FAILED: $1" >&2
    echo "swift: 0 passed, 1 failed"
    exit 1
  fi
  echo "swift: skipped: $1"
  exit 0
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
as_root true 2>/dev/null || cannot "the Swift root needs root (debootstrap, chroot, mounts) and sudo -n is not available"

# 1. The library and its Swift bindings (generated, never committed: they follow the Rust API).
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
echo "== cargo build -p accord-ffi --lib --bins"
cargo build -p accord-ffi --lib --bins
lib="$target_dir/debug/libaccord_ffi.so"
# The tests link the debug library; the bench (ACCORD_LIB_PROFILE=release) the release one.
profile="${ACCORD_LIB_PROFILE:-debug}"
if [ "$profile" = release ]; then
  cargo build -p accord-ffi --lib --release --features test-hooks
fi
kit="$root/ios/AccordKit"
gen="$(mktemp -d)"
"$target_dir/debug/uniffi-bindgen" generate "$lib" --language swift --out-dir "$gen" --no-format
for module in AccordCoreFFI AccordFFIFFI; do
  mkdir -p "$kit/Sources/$module"
  cp "$gen/$module.h" "$kit/Sources/$module/"
  # A system-library target's module map; `link` makes SwiftPM link the host library.
  printf 'module %s {\n    header "%s.h"\n    link "accord_ffi"\n    export *\n}\n' "$module" "$module" \
    > "$kit/Sources/$module/module.modulemap"
done
mkdir -p "$kit/Sources/AccordBindings"
cp "$gen/AccordCore.swift" "$gen/AccordFFI.swift" "$kit/Sources/AccordBindings/"
rm -rf "$gen"

# 2. The Debian trixie root with Swift, made once.
ready="$swift_root/.accord-swift-ready"
if [ ! -f "$ready" ]; then
  started=$SECONDS
  command -v debootstrap >/dev/null || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null \
    || cannot "debootstrap could not be installed"
  mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -n1)"
  mirror="${mirror:-http://deb.debian.org/debian}"
  echo "== debootstrap trixie into $swift_root (from $mirror; once)"
  as_root rm -rf "$swift_root.partial"
  as_root mkdir -p "$(dirname "$swift_root")"
  as_root debootstrap --variant=minbase trixie "$swift_root.partial" "$mirror" >/dev/null \
    || cannot "debootstrap trixie failed"
  as_root mount -t proc proc "$swift_root.partial/proc"
  if ! as_root chroot "$swift_root.partial" env DEBIAN_FRONTEND=noninteractive \
      sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends swiftlang lld libc6-dev libstdc++-14-dev ca-certificates >/dev/null'; then
    as_root umount "$swift_root.partial/proc" || true
    cannot "apt-get install swiftlang in the trixie root failed"
  fi
  as_root umount "$swift_root.partial/proc"
  as_root touch "$swift_root.partial/.accord-swift-ready"
  as_root rm -rf "$swift_root"
  as_root mv "$swift_root.partial" "$swift_root"
  echo "   (the Swift root took $((SECONDS - started)) s to make)"
fi

# 3. Mount what the compiler needs and the project; unmount on every exit.
mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    as_root umount "${mounted[$i]}" 2>/dev/null || as_root umount -l "${mounted[$i]}" || true
  done
}
trap cleanup EXIT
mount_in() { # mount_in TARGET ARGS...: mounts once, remembers it for cleanup
  local target="$1"; shift
  as_root mkdir -p "$target"
  as_root mount "$@" "$target"
  mounted+=("$target")
}
mount_in "$swift_root/proc" -t proc proc
mount_in "$swift_root/dev" --bind /dev
mount_in "$swift_root/sys" --bind /sys
mount_in "$swift_root/src" --bind "$root"
case "$target_dir" in
  "$root"/*) inner_target="/src/${target_dir#"$root"/}" ;;
  *) mount_in "$swift_root/cargo-target" --bind "$target_dir"; inner_target=/cargo-target ;;
esac

echo "== swift build and test AccordKit in the trixie root"
status=0
as_root chroot "$swift_root" env -i PATH=/usr/bin:/bin HOME=/root \
  LD_LIBRARY_PATH="/usr/libexec/swift/lib/swift/linux:$inner_target/$profile" \
  ACCORD_BENCH="${ACCORD_BENCH:-}" \
  sh -c "cd /src/ios/AccordKit && swift test --scratch-path /src/ios/AccordKit/.build-linux \
    ${ACCORD_SWIFT_FILTER:+--filter $ACCORD_SWIFT_FILTER} \
    -Xswiftc -use-ld=lld -Xlinker -L$inner_target/$profile 2>&1" | tee /tmp/accord-swift-test.log || status=$?

echo "== swiftc -parse every Swift file of the iOS app"
files=()
while IFS= read -r -d '' file; do
  files+=("/src/${file#"$root"/}")
done < <(find "$root/ios" -name '*.swift' -not -path '*/.build*' -not -path '*/Sources/AccordBindings/*' -print0)
parsed=${#files[@]}
# One compiler run for every file (each file is parsed on its own: syntax only).
as_root chroot "$swift_root" env -i PATH=/usr/bin:/bin \
  LD_LIBRARY_PATH=/usr/libexec/swift/lib/swift/linux swiftc -parse "${files[@]}" || status=1
echo "swift: parsed $parsed files"

echo "== the Xcode project: parses, names only what exists"
python3 "$root/scripts/check-xcodeproj.py" || status=1

# XCTest's last summary: "Executed N tests, with [S tests skipped and] F failures (U unexpected)".
summary="$(grep -E 'Executed [0-9]+ tests?, with' /tmp/accord-swift-test.log | tail -n1 || true)"
executed=$(echo "$summary" | sed -nE 's/.*Executed ([0-9]+) tests?.*/\1/p')
skipped=$(echo "$summary" | sed -nE 's/.* ([0-9]+) tests? skipped.*/\1/p')
failures=$(echo "$summary" | sed -nE 's/.* ([0-9]+) failures?.*/\1/p')
failures=${failures:-0}
[ "$status" = 0 ] || [ "$failures" -gt 0 ] || failures=1
echo "swift: $(( ${executed:-0} - ${skipped:-0} - failures < 0 ? 0 : ${executed:-0} - ${skipped:-0} - failures )) passed, ${failures} failed${skipped:+ (${skipped} skipped)}"
exit "$status"
