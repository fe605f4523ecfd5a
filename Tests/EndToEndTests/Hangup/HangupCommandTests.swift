import Testing
import Glibc
import TestSupport
import SessionCore

/// `sessiontop hangup` as a user runs it, against a real bash session on a pty.
@Suite(.timeLimit(.minutes(3)))
struct HangupCommandTests {
    @Test func groupsASessionByFateWithReasons() throws {
        Processes.becomeSubreaper()
        let token = "7" + String(UInt32.random(in: 1_000_000...9_999_999))
        let lab = try HangupLab(shell: .bash, token: token)
        defer { lab.cleanup() }
        try lab.start()
        try #require(lab.sync("READY"))
        lab.type("sleep \(lab.marker(1)) &")
        lab.type("nohup sleep \(lab.marker(2)) &")
        try #require(lab.sync("DONE"))
        let deadline = monotonicSeconds() + 10
        while lab.scan().filter({ $0.argv.contains(token) }).count < 2 && monotonicSeconds() < deadline { lab.pump(0.1) }

        let hung = try Processes.runSessiontop(["hangup", "--tty", lab.pty.name])
        let (code, text, err) = (hung.status, flatText(hung.stdout), hung.stderr)
        #expect(code == 0, "\(err)")
        #expect(text.contains("session \(lab.leader)"))
        #expect(hung.stdout.contains("  dies ("))
        #expect(hung.stdout.contains("  survives ("))
        #expect(text.contains("hangup_all_jobs"))
        #expect(text.contains("SigIgn holds HUP"))

        let exited = try Processes.runSessiontop(["hangup", "--event", "leader-exit", "--sid", String(lab.leader), "--json"])
        let (jcode, json) = (exited.status, exited.stdout)
        #expect(jcode == 0)
        #expect(json.contains("\"event\":\"leader-exit\""))
        #expect(json.contains("\"fate\":\"survives\""))
        #expect(json.contains("\"sid\":\(lab.leader)"))
    }

    /// No scope: the session of sessiontop's own terminal (run from the shell on the pty).
    @Test func defaultScopeIsOwnTerminalsSession() throws {
        Processes.becomeSubreaper()
        let lab = try HangupLab(shell: .bash, token: "6" + String(UInt32.random(in: 1_000_000...9_999_999)))
        defer { lab.cleanup() }
        try lab.start()
        try #require(lab.sync("READY"))
        lab.type("SWIFT_BACKTRACE=interactive=no \(PackagePaths.binary) hangup --event logout --json > out.json")
        try #require(lab.sync("WROTE"))
        let json = try #require(Files.read(lab.home + "/out.json"))
        #expect(json.contains("\"sessions\":[{\"sid\":\(lab.leader),\"tty\":\"\(lab.pty.name)\""))
        // Exactly one session: its own.
        #expect(json.split(separator: "\"leader\":").count == 2)
    }

    /// §5 of issue 9: a `setsid sleep &` holding the terminal on fds 0-2 has one verdict,
    /// whichever way it is asked for.
    @Test func outsiderHasOneVerdictHoweverAsked() throws {
        Processes.becomeSubreaper()
        let lab = try HangupLab(shell: .bash, token: "3" + String(UInt32.random(in: 1_000_000...9_999_999)))
        defer { lab.cleanup() }
        try lab.start()
        try #require(lab.sync("READY"))
        lab.type("setsid sleep \(lab.marker(1)) &")
        try #require(lab.sync("DONE"))
        var pid: Int32?
        try #require(waitUntil(timeout: 10) {
            pid = lab.scan().first { $0.argv.contains(lab.marker(1)) && $0.sid != lab.leader }?.pid
            return pid != nil
        })
        let p = try #require(pid)
        let needle = "{\"pid\":\(p),\"sid\":\(p),\"pgid\":\(p),\"command\":\"sleep \(lab.marker(1))\",\"verdict\":{\"fate\":\"at-risk\",\"by\":null,\"certain\":true"
        for args in [["--pid", String(p)], ["--sid", String(lab.leader)], ["--tty", lab.pty.name]] {
            let r = try Processes.runSessiontop(["hangup", "--json"] + args)
            #expect(r.status == 0 && r.stdout.contains(needle), "\(args): \(r.stdout)")
        }
        let snap = try Processes.runSessiontop(["snapshot", "--json", "--pid", String(p)])
        #expect(snap.stdout.contains("\"hangup\":{\"hangup\":{\"fate\":\"at-risk\",\"by\":null,\"certain\":true"), "\(snap.stdout)")
        // logout too: the terminal goes away after `exit`.
        let out = try Processes.runSessiontop(["hangup", "--json", "--event", "logout", "--pid", String(p)])
        #expect(out.stdout.contains(needle), "\(out.stdout)")
    }

    @Test func badInputIsOneLineAndNonZero() throws {
        for args in [["hangup", "--pid", "2147483646"], ["hangup", "--sid", "2147483646"],
                     ["hangup", "--tty", "pts/99999"], ["hangup", "--event", "reboot"]] {
            let r = try Processes.runSessiontop(args)
            let (code, out, err) = (r.status, r.stdout, r.stderr)
            #expect(code != 0, "\(args)")
            #expect(out.isEmpty)
            #expect(err.hasPrefix("sessiontop: ") && err.filter { $0 == "\n" }.count == 1, "\(args): \(err)")
        }
    }
}
