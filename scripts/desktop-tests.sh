#!/usr/bin/env bash
# The shared Compose screens on the JVM: builds accord-ffi, generates its Kotlin bindings for
# the desktop build, and runs desktop/'s tests (state holders against the fake and the real
# library, the screens clicked through, every screen rendered to desktop/target/screenshots).
# Needs cargo, a JDK (17+) and Maven; Maven downloads Compose Multiplatform from Maven Central.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
lib="$target_dir/debug/libaccord_ffi.so"
echo "== cargo build --workspace --lib --bins --examples"
cargo build --workspace --lib --bins --examples
gen="$root/desktop/target/generated-sources/uniffi"
rm -rf "$gen"
"$target_dir/debug/uniffi-bindgen" generate "$lib" --language kotlin --out-dir "$gen" --no-format

# Skia (Compose's renderer) loads libGL, libX11, fontconfig and freetype, and text needs a font.
if ! ldconfig -p | grep -q 'libGL.so.1' || ! ldconfig -p | grep -q 'libfontconfig.so.1' \
  || ! ls /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf >/dev/null 2>&1; then
  echo "== apt-get install what Skia needs"
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      libgl1 libx11-6 libfontconfig1 libfreetype6 fonts-dejavu-core) >/dev/null
  else
    sudo -n apt-get install -y -qq libgl1 libx11-6 libfontconfig1 libfreetype6 fonts-dejavu-core \
      >/dev/null || echo "could not install libgl1 libx11-6 libfontconfig1 libfreetype6 fonts-dejavu-core (not root): the screen tests will fail"
  fi
fi

echo "== mvn test (desktop)"
cd "$root/desktop"
rm -rf target/surefire-reports target/screenshots
# No lingering Kotlin compile daemon (~600 MB) after Maven exits.
mvn -B -ntp -Dkotlin.compiler.daemon=false -Daccord.lib.dir="$target_dir/debug" test 2>&1 \
  | grep -Ev '^\[INFO\] (Download|Building|---|$)' || status=$?
MVN_STATUS="${status:-0}" python3 "$root/scripts/surefire-summary.py" desktop
echo "screenshots: $(ls target/screenshots 2>/dev/null | wc -l) PNGs in $root/desktop/target/screenshots"
exit "${status:-0}"
