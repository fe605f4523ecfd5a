import Testing
import Glibc
import TestSupport
import SessionCore

/// Issue 8 §5, the TUI end to end: a pipeline of three in an interactive bash on a real pty;
/// sessiontop in tmux (`-p` those pids); `D`, the in-place plan, `y`; the status line says it is
/// detached and survives, the verdict letters turn from D to S; then the pty is closed (the
/// window goes away) and the same three processes (pid + start time) are alive and running.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct DetachTUITests {
    /// The tree rows of these pids: pid → the row's fate mark (first column).
    static func marks(_ screen: String, _ pids: [Int32]) -> [Int32: String] {
        var out: [Int32: String] = [:]
        for line in screen.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count > 2, let pid = Int32(f[1]), pids.contains(pid) else { continue }
            out[pid] = String(f[0])
        }
        return out
    }

    @Test func dThenYDetachesAPipelineInPlaceAndItOutlivesTheWindow() throws {
        let d = try DetachLab(.bash)
        try d.start()
        d.lab.type("sleep \(d.marker) | sleep \(d.marker) | sleep \(d.marker)")
        let job = try d.waitForJob(count: 3)
        let pids = job.map(\.pid)
        let state = d.lab.home + "/state"
        let pane = TmuxPane(width: 200, height: 40, env: "LANG=C.UTF-8 XDG_STATE_HOME=\(state)",
                            command: sessiontopBinary + " -d 0.5 -p " + pids.map(String.init).joined(separator: ","))
        pane.waitForApp()
        // Before: each dies with the terminal (the kernel's SIGHUP to the foreground group).
        let before = pane.waitFor("the job's D marks") { Self.marks($0, pids).values.filter { $0.hasPrefix("D") }.count == 3 }
        #expect(Self.marks(before, pids).count == 3, "\(before)")
        pane.keys("/")
        pane.waitFor("Search:")
        pane.literal("sleep \(d.marker)")
        pane.keys("Enter")
        pane.waitFor("match: sleep \(d.marker)")
        pane.keys("D")
        let dialog = pane.waitFor("in place") { $0.contains("(3 processes) in place") && $0.contains("y detach in place") }
        #expect(dialog.contains("same pid, same state, no restart"), "\(dialog)")
        // Each member's own terminal fds (the pipes between them are not the terminal).
        #expect(dialog.contains("\(pids[0]) sleep \(d.marker): SIGHUP → ignored; fd 0 → /dev/null, fd 2 → log"), "\(dialog)")
        #expect(dialog.contains("\(pids[1]) sleep \(d.marker): SIGHUP → ignored; fd 2 → log"), "\(dialog)")
        #expect(dialog.contains("\(pids[2]) sleep \(d.marker): SIGHUP → ignored; fd 1 → log, fd 2 → log"), "\(dialog)")
        #expect(dialog.contains("moves to a new process group"))
        #expect(!dialog.contains("no need to detach"))
        for p in job { #expect(!DetachLab.sigIgnHup(p.pid), "nothing changed before y") }
        pane.keys("y")
        let done = pane.waitFor("the result line", timeout: 15) { $0.contains("detached in place: output →") }
        #expect(done.contains("(3 processes) detached in place") && done.contains("it survives a hangup"), "\(done)")
        // After: the verdict letters turn to S (survives) on the next scan.
        let after = pane.waitFor("the job's S marks", timeout: 10) { Self.marks($0, pids).values.filter { $0.hasPrefix("S") }.count == 3 }
        #expect(Self.marks(after, pids).values.allSatisfy { $0 == "S" }, "certain, no ?: \(after)")
        // Only the terminal's fds moved (the pipes between them stay): the first one's stdin to
        // /dev/null, the last one's stdout and everyone's stderr to the log (in the target's
        // own state directory: $HOME/.local/state/sessiontop, as its environment says).
        let log = DetachLab.fdTarget(pids[2], 1)
        #expect(log.hasPrefix(d.lab.home + "/.local/state/sessiontop/sleep-") && log.hasSuffix(".log"), "\(log)")
        #expect(DetachLab.fdTarget(pids[0], 0) == "/dev/null")
        #expect(DetachLab.fdTarget(pids[0], 1).hasPrefix("pipe:") && DetachLab.fdTarget(pids[1], 0).hasPrefix("pipe:"))
        for p in job {
            #expect(DetachLab.sigIgnHup(p.pid))
            #expect(DetachLab.fdTarget(p.pid, 2) == log)
        }
        // The detail view remembers who detached it (sessiontop's own state file), with the log.
        pane.keys("Enter")
        pane.keys("7")
        let detail = pane.waitFor("detached in place by sessiontop at", timeout: 5) { $0.contains("detached in place by sessiontop at") }
        #expect(detail.contains("log " + log), "\(detail)")
        #expect((Files.read(state + "/sessiontop/detached.tsv") ?? "").contains("\(pids[0])\t\(job[0].start)\t"))
        // The window goes away: the pty master is closed; bash gets SIGHUP and exits.
        try d.hangUp(.closeMaster)
        for p in job { #expect(DetachLab.aliveRunning(p), "pid \(p.pid) died with the window") }
        pane.keys("Escape")
        pane.waitFor("F10Quit")
        pane.keys("q")
        pane.expectRestored(exit: 0)
    }
}
