/// Where the package, its built binary and its fixtures are, found from this file's path
/// (`Tests/TestSupport/Paths.swift`), so tests never depend on the working directory.
public enum PackagePaths {
    /// The package root (the folder holding Package.swift).
    public static let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    /// `.build/debug/sessiontop`: `swift build --build-tests` builds it before the tests run.
    public static var binary: String { root + "/.build/debug/sessiontop" }

    /// `Tests/Fixtures`: the fixture /proc trees (written by `Tests/Fixtures/make-fixtures.py`).
    public static var fixtures: String { root + "/Tests/Fixtures" }
}
