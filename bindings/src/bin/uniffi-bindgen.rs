//! `uniffi-bindgen` for this workspace: generates Kotlin and Swift from the built library.
fn main() {
    uniffi::uniffi_bindgen_main()
}
