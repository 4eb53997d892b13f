#!/usr/bin/env bash
# Builds AccordFFI.xcframework for the iOS app (run on a Mac with Xcode and the iOS Rust
# targets: rustup target add aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios).
# Not run here: this machine has no Xcode (AccordKit itself is built and tested on Linux by
# scripts/swift-tests.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/ios
rm -rf "$out" && mkdir -p "$out/headers"
for t in aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios; do
  cargo build --release -p accord-ffi --target "$t"
done
cargo build -p accord-ffi
cargo run -q -p accord-ffi --bin uniffi-bindgen -- generate target/debug/libaccord_ffi.dylib \
  --language swift --out-dir "$out/swift" --no-format
# Two uniffi components (the core's types and the objects): both headers, one module map.
cp "$out/swift/AccordCoreFFI.h" "$out/swift/AccordFFIFFI.h" "$out/headers/"
cat "$out/swift/AccordCoreFFI.modulemap" "$out/swift/AccordFFIFFI.modulemap" \
  > "$out/headers/module.modulemap"
lipo -create target/aarch64-apple-ios-sim/release/libaccord_ffi.a \
  target/x86_64-apple-ios/release/libaccord_ffi.a -output "$out/libaccord_ffi_sim.a"
xcodebuild -create-xcframework \
  -library target/aarch64-apple-ios/release/libaccord_ffi.a -headers "$out/headers" \
  -library "$out/libaccord_ffi_sim.a" -headers "$out/headers" \
  -output "$out/AccordFFI.xcframework"
# AccordKit (ios/AccordKit) compiles the generated Swift as its AccordBindings target.
mkdir -p ios/AccordKit/Sources/AccordBindings
cp "$out/swift/AccordCore.swift" "$out/swift/AccordFFI.swift" ios/AccordKit/Sources/AccordBindings/
echo "Built $out/AccordFFI.xcframework and ios/AccordKit/Sources/AccordBindings; open the iOS app in Xcode."
