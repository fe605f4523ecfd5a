// swift-tools-version:6.0
// libFuzzer targets for sessiontop's parsers and SnapshotReader. A package of its own so that
// `swift build -Xswiftc -sanitize=fuzzer,address` instruments only this and what it uses, and
// the main build never links a fuzzer. Run through scripts/fuzz.
import PackageDescription

let package = Package(
    name: "sessiontop-fuzz",
    dependencies: [.package(name: "sessiontop", path: "..")],
    targets: [
        .executableTarget(name: "sessiontop-fuzz", dependencies: [
            .product(name: "FuzzHarness", package: "sessiontop"),
        ]),
    ]
)
