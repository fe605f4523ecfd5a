// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "sessiontop",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "sessiontop", targets: ["sessiontop"]),
        .library(name: "SessionCore", targets: ["SessionCore"]),
        // The fuzz targets' bodies, for the libFuzzer package in Fuzz/ (see scripts/fuzz).
        .library(name: "FuzzHarness", targets: ["FuzzHarness"]),
    ],
    dependencies: [
        // The one external dependency: subcommands, options and help text for the CLI.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C: everything Swift's Glibc module hides (_GNU_SOURCE) and everything that runs
        // between fork and exec.
        .target(name: "CSessionShims", cSettings: [.define("_GNU_SOURCE")]),
        // C: ncurses macros that Swift cannot import; links ncursesw.
        .target(name: "CCurses", cSettings: [.define("_GNU_SOURCE")],
                linkerSettings: [.linkedLibrary("ncursesw")]),
        // C: the detach-in-place ptrace engine (issue 8): a forked helper that seizes, injects
        // and restores; a small per-architecture layer (x86_64, aarch64) beside it.
        .target(name: "CDetachEngine", cSettings: [.define("_GNU_SOURCE")]),
        // The product's brain: /proc parsing, model, hangup analysis, actions. No UI.
        .target(name: "SessionCore", dependencies: ["CSessionShims", "CDetachEngine"]),
        // The TUI: state, update, render into a screen buffer; one file talks to ncurses.
        .target(name: "SessionUI", dependencies: ["SessionCore", "CCurses"]),
        .executableTarget(name: "sessiontop", dependencies: [
            "SessionCore", "SessionUI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Fixture /proc trees live in Tests/Fixtures, outside every target: their cwd/exe
        // symlinks point at / and SwiftPM would walk them.
        // Helpers shared by the test targets (processes, polling, temp dirs, paths); no test framework.
        .target(name: "TestSupport", dependencies: ["SessionCore", "CSessionShims"], path: "Tests/TestSupport"),
        // Every parser and SnapshotReader under arbitrary bytes, the invariants a snapshot must
        // keep, a strict JSON checker: shared by the fuzzer (Fuzz/) and the tests.
        .target(name: "FuzzHarness", dependencies: ["SessionCore", "SessionUI"], path: "Tests/FuzzHarness"),
        .testTarget(name: "SessionCoreTests", dependencies: ["SessionCore", "CSessionShims", "TestSupport", "FuzzHarness"]),
        .testTarget(name: "SessionUITests", dependencies: ["SessionUI", "SessionCore"],
                    resources: [.copy("Goldens")]),
        .testTarget(name: "EndToEndTests", dependencies: ["SessionCore", "CSessionShims", "TestSupport", "FuzzHarness"]),
    ]
)
