import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// `signal --pgid/--sid` never hits a process that left the group or session between the
/// resolution and its send (issue 10, item 3).
@Suite struct HardeningSignalTests {
    /// A session led by `sleep` whose other member, a subshell of the same group, calls
    /// setsid(2) (`exec setsid sleep`) when a line arrives on a pipe. Returns (leader, leaver,
    /// the pipe's write end).
    static func sessionWithALeaver(_ tag: String, setpgid: Bool = false) throws -> (Int32, Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw Errno.current }
        // An asynchronous list reads /dev/null as stdin (POSIX, no job control): the pipe is fd 3.
        let leave = setpgid ? "exec python3 -c 'import os, time; os.setpgid(0, 0); time.sleep(1008)'" : "exec setsid sleep 1008.\(tag)"
        let leader = try Processes.spawn(["/bin/sh", "-c", "(read x <&3; \(leave) 3<&-) & exec sleep 1007.\(tag) 3<&-"]) {
            $0.newSession = true
            $0.fileDescriptors = [(3, fds[0])]
        }
        close(fds[0])
        let reader = try SnapshotReader()
        var leaver: Int32 = 0
        _ = waitUntil {
            let snap = reader.snapshot(options: ScanOptions(details: .only([])))
            leaver = (snap.children[leader] ?? []).first ?? 0
            return leaver > 0 && snap.process(leader)?.commText == "sleep" && snap.process(leaver)?.sid == leader
        }
        return (leader, leaver, fds[1])
    }

    /// setsid leaves the group and the session; setpgid(0, 0) (python's os.setpgid) the group.
    @Test(arguments: ["group", "session", "group-setpgid"])
    func aMemberThatLeavesBeforeItsTurnIsSkipped(_ variant: String) throws {
        Processes.becomeSubreaper()
        let tag = "\(TextScan.uniqueNumber())"
        let kind = variant.hasPrefix("group") ? "group" : "session"
        let (leader, leaver, trigger) = try Self.sessionWithALeaver(tag, setpgid: variant == "group-setpgid")
        defer { close(trigger); Processes.killAndReap(leader); Processes.killAndReap(leaver) }
        try #require(leaver > 0)
        let reader = try SnapshotReader()
        var sender = try SignalSender()
        sender.beforeEachSend = { id in
            guard id.pid == leaver else { return }
            _ = write(trigger, "\n", 1)
            _ = waitUntil { reader.readProcess(leaver).map { $0.pgid == leaver && $0.commText != "sh" } ?? false }
        }
        let target: SignalTarget = kind == "group" ? .group(leader) : .session(leader)
        let report = sender.send(Signals.term, to: target)
        let outcomes = Dictionary(uniqueKeysWithValues: report.members.map { ($0.identity.pid, $0.outcome) })
        #expect(outcomes[leader] == .sent)
        let now = kind == "group" ? "process group \(leader)" : "session \(leader)"
        #expect(outcomes[leaver] == .left(target, now: leaver), "\(outcomes)")
        #expect(report.allSent, "what is still in the \(kind) got it")
        #expect(Processes.termSignal(Processes.reap(leader, within: 5)) == SIGTERM)
        // The leaver was not touched: still running, in its own group.
        #expect(reader.readProcess(leaver).map { !$0.state.isGone && $0.pgid == leaver } == true)
        let line = try #require(report.members.first { $0.identity.pid == leaver }).line(signal: Signals.term)
        #expect(line.hasPrefix("pid \(leaver) (") && line.hasSuffix("): skipped: it left \(now) (now in \(kind == "group" ? "process group" : "session") \(leaver)); nothing sent"), "\(line)")
    }
}
