// swift-tools-version:5.10
// AccordKit: everything of the iOS app that is not a SwiftUI view, over the Rust library's
// generated Swift bindings (`scripts/swift-tests.sh` generates them into Sources/). On Linux
// (the tests here) the library is the host build of accord-ffi, linked through two
// system-library targets; on Apple platforms it is the XCFramework that
// `scripts/build-xcframework.sh` builds into target/ios.
import PackageDescription

#if os(Linux)
let native: [Target] = [
    .systemLibrary(name: "AccordCoreFFI", path: "Sources/AccordCoreFFI"),
    .systemLibrary(name: "AccordFFIFFI", path: "Sources/AccordFFIFFI"),
]
let nativeDependencies: [Target.Dependency] = ["AccordCoreFFI", "AccordFFIFFI"]
#else
let native: [Target] = [
    .binaryTarget(name: "AccordFFIBinary", path: "../../target/ios/AccordFFI.xcframework"),
]
let nativeDependencies: [Target.Dependency] = ["AccordFFIBinary"]
#endif

let package = Package(
    name: "AccordKit",
    platforms: [.iOS(.v17), .macOS(.v14)],
    products: [
        .library(name: "AccordKit", targets: ["AccordKit"]),
    ],
    targets: native + [
        // The uniffi-generated Swift of the core's types and of accord-ffi's objects.
        .target(
            name: "AccordBindings",
            dependencies: nativeDependencies,
            path: "Sources/AccordBindings",
            swiftSettings: [.unsafeFlags(["-suppress-warnings"])],
            // What the Rust library (iroh's network and TLS code) links on Apple platforms.
            linkerSettings: [
                .linkedFramework("SystemConfiguration", .when(platforms: [.iOS, .macOS])),
                .linkedFramework("Security", .when(platforms: [.iOS, .macOS])),
            ]
        ),
        .target(name: "AccordKit", dependencies: ["AccordBindings"], path: "Sources/AccordKit"),
        .testTarget(name: "AccordKitTests", dependencies: ["AccordKit"], path: "Tests/AccordKitTests"),
    ]
)
