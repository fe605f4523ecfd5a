import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// `relaunch` without --yes asks on the terminal, and checks the original again after the
/// answer: what was confirmed is what runs, or nothing (issue 10, item 5).
@Suite struct HardeningRelaunchPromptTests {
    /// Runs `sessiontop relaunch ARGS` on a fresh pty as its controlling terminal; `whileAsked`
    /// runs once the prompt is shown, then `y` is typed. Returns (exit status, everything shown).
    static func relaunchAnsweringYes(_ args: [String], whileAsked: () -> Void) throws -> (Int32, String) {
        let pty = try PseudoTerminal()
        let slave = try pty.openSlave()
        let pid = try Processes.spawn([PackagePaths.binary, "relaunch"] + args) {
            $0.newSession = true
            $0.controllingTerminalFD = 0
            $0.fileDescriptors = [(0, slave), (1, slave), (2, slave)]
            $0.environment = Processes.defaultEnvironment()
        }
        close(slave)
        defer { Processes.killAndReap(pid) }
        var shown = ""
        #expect(waitUntil(timeout: 10) {
            shown += String(decoding: pty.read(timeout: 0.05), as: UTF8.self)
            return shown.contains("Proceed? [y/N] ")
        }, "the prompt: \(shown)")
        whileAsked()
        pty.write("y\n")
        var status: Int32?
        _ = waitUntil(timeout: 10) {
            shown += String(decoding: pty.read(timeout: 0.05), as: UTF8.self)
            status = Processes.reap(pid, within: 0.01)
            return status != nil
        }
        shown += String(decoding: pty.read(timeout: 0.1), as: UTF8.self)
        return (status.map(Processes.exitCode) ?? -1, shown)
    }

    static func running(_ argv: [String]) -> [Int32] {
        guard let snap = try? SnapshotReader().snapshot() else { return [] }
        return snap.processes.values.filter { !$0.state.isGone && $0.argv.value?.map { SafeText.display($0) } == argv }.map(\.pid)
    }

    @Test func anOriginalThatExitedWhileAskingIsNotRelaunched() throws {
        Processes.becomeSubreaper()
        let dir = try TempDirectory.make("harden")
        defer { TempDirectory.remove(dir) }
        let argv = ["sleep", "1010.\(TextScan.uniqueNumber())"]
        let original = try Processes.spawn(argv)
        defer { Processes.killAndReap(original) }
        let (status, shown) = try Self.relaunchAnsweringYes(["\(original)", "--log", dir + "/r.log"]) {
            Processes.killAndReap(original)
        }
        let copies = Self.running(argv)
        defer { for c in copies { Processes.killAndReap(c) } }
        #expect(status == 1, "\(shown)")
        #expect(shown.contains("sessiontop: pid \(original) has exited while waiting for the answer: nothing started"), "\(shown)")
        #expect(copies.isEmpty)
        #expect(access(dir + "/r.log", F_OK) != 0)
    }

    /// Same pid, same start time, but it exec'd another program meanwhile: what was shown is
    /// not what would run, so nothing runs and the process is left alone.
    @Test func anOriginalThatChangedWhileAskingIsLeftAlone() throws {
        Processes.becomeSubreaper()
        let dir = try TempDirectory.make("harden")
        defer { TempDirectory.remove(dir) }
        var fds: [Int32] = [-1, -1]
        try #require(pipe(&fds) == 0)
        let tag = TextScan.uniqueNumber()
        let original = try Processes.spawn(["/bin/sh", "-c", "read x <&3; exec sleep 1011.\(tag) 3<&-"]) { $0.fileDescriptors = [(3, fds[0])] }
        close(fds[0])
        defer { close(fds[1]); Processes.killAndReap(original) }
        let reader = try SnapshotReader()
        #expect(waitUntil { reader.readProcess(original)?.commText == "sh" })
        let (status, shown) = try Self.relaunchAnsweringYes(["\(original)", "--log", dir + "/r.log"]) {
            _ = write(fds[1], "\n", 1)
            _ = waitUntil { reader.readProcess(original)?.commText == "sleep" }
        }
        let copies = Self.running(["sleep", "1011.\(tag)"]).filter { $0 != original } + Self.running(["/bin/sh", "-c", "read x <&3; exec sleep 1011.\(tag) 3<&-"])
        defer { for c in copies { Processes.killAndReap(c) } }
        #expect(status == 1, "\(shown)")
        #expect(shown.contains("sessiontop: pid \(original) changed while waiting for the answer (its command line is now: sleep 1011.\(tag)): nothing started"), "\(shown)")
        #expect(copies.isEmpty)
        #expect(Processes.reap(original, within: 0.1) == nil, "the original still runs")
    }
}
