import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// The TUI's actions on real processes, through the built binary in tmux: `k` sends a signal to
/// exactly the selected process; `D`, then `r`, relaunches a process detached and ends the original
/// (in place, `D`'s default, is DetachTUITests).
@Suite struct TUITmuxActionsTests {
    init() {
        #expect(access(sessiontopBinary, X_OK) == 0, "build first: swift build")
    }

    /// The status line: the line above the F-bar.
    func statusLine(_ screen: String) -> String {
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
        guard let bar = lines.firstIndex(where: { $0.hasPrefix("F1Help") }), bar > 0 else { return "" }
        return String(lines[bar - 1])
    }

    /// The process with this exact argv whose parent is `parent` (nil: any), from /proc.
    func find(_ argv: [String], parent: Int32? = nil, except: Int32? = nil) -> ProcessInfo? {
        guard let reader = try? SnapshotReader() else { return nil }
        return reader.snapshot().processes.values.first { p in
            (parent == nil || p.ppid == parent) && p.pid != except && !p.state.isGone
                && p.argv.value?.map { SafeText.display($0) } == argv
        }
    }

    /// A session of two sleeps (one group): search, k, 15, Enter, y. Only the selected one gets
    /// SIGTERM (its wait status says so); its group mate lives on; the status line reports it.
    @Test func signalMenuTermsExactlyTheSelectedProcess() throws {
        Processes.becomeSubreaper()
        let m = TextScan.uniqueNumber()
        // sh starts the mate in the background, then becomes the target: both in one group.
        let target = try Processes.spawn(["sh", "-c", "sleep 7\(m)1 & exec sleep 7\(m)"]) { $0.newSession = true }
        defer { Processes.killAndReap(target) }
        var mate: ProcessInfo?
        #expect(waitUntil { mate = find(["sleep", "7\(m)1"], parent: target); return mate != nil && find(["sleep", "7\(m)"]) != nil })
        let matePid = try #require(mate?.pid)
        defer { Processes.killAndReap(matePid) }
        #expect(mate?.pgid == target)

        let pane = TmuxPane(command: sessiontopBinary)
        pane.waitForApp()
        pane.keys("/")
        pane.waitFor("Search:")
        pane.literal("sleep 7\(m)")
        pane.keys("Enter")
        pane.waitFor("match: sleep 7\(m)")
        pane.keys("k")
        // The menu names the process (the parent comes first in its group's tree).
        let menu = pane.waitFor("Signal process \(target) · sleep 7\(m)")
        #expect(menu.contains("15 TERM") && menu.contains("terminate: the polite request to exit"))
        #expect(menu.contains("all signals"))
        pane.keys("9")  // picks KILL; then 1, 5 pick TERM
        pane.keys("1", "5", "Enter")
        let ask = pane.waitFor("Send SIGTERM to process \(target) · sleep 7\(m)?")
        #expect(ask.contains("y send") && ask.contains("Esc cancel"))
        #expect(Processes.reap(target, within: 0.3) == nil, "nothing sent before y")
        pane.keys("y")
        let sent = pane.waitFor("sent SIGTERM to pid \(target) (sleep 7\(m))")
        #expect(statusLine(sent).hasPrefix("sent SIGTERM to pid \(target) (sleep 7\(m))"))
        let status = Processes.reap(target, within: 5)
        #expect(Processes.termSignal(status) == SIGTERM)
        // Its group mate was not touched.
        #expect(!Processes.isGone(matePid))
        pane.keys("q")
        pane.expectRestored(exit: 0)
    }

    /// D on a sleep in its own session: the dialog shows what will run; y starts a copy in a new
    /// session without a terminal (same argv and cwd), selects it, and ends the original with
    /// SIGTERM off the UI loop; the status line says both.
    @Test func detachRelaunchesAndEndsTheOriginal() throws {
        Processes.becomeSubreaper()
        let dir = try TempDirectory.make("tuidetach")
        defer { TempDirectory.remove(dir) }
        let m = TextScan.uniqueNumber()
        let argv = ["sleep", "8\(m)"]
        let original = try Processes.spawn(argv) {
            $0.newSession = true
            $0.workingDirectory = dir
            // The log goes where the target's user keeps state, as its environment says.
            $0.environment = ["PATH=/usr/bin:/bin", "MARK=tui-\(m)", "XDG_STATE_HOME=\(dir)/state"]
        }
        defer { Processes.killAndReap(original) }
        #expect(waitUntil { find(argv) != nil })

        let pane = TmuxPane(env: "LANG=C.UTF-8 XDG_STATE_HOME=\(dir)/state", command: sessiontopBinary)
        pane.waitForApp()
        pane.keys("/")
        pane.waitFor("Search:")
        pane.literal("sleep 8\(m)")
        pane.keys("Enter")
        pane.waitFor("match: sleep 8\(m)")
        pane.keys("D")
        // In place is the default; a sleep in a session without a terminal needs nothing.
        let inPlace = pane.waitFor("Detach pid \(original) (sleep 8\(m)) in place")
        #expect(inPlace.contains("no need to detach: it already survives a hangup"), "\(inPlace)")
        #expect(inPlace.contains("r relaunch instead (restarts from scratch)"))
        pane.keys("r")
        let dialog = pane.waitFor("Detach pid \(original) (sleep) via daemonize")
        #expect(dialog.contains("run:    sleep 8\(m)"))
        #expect(dialog.contains("in:     \(dir)"))
        #expect(dialog.contains("SIGTERM to pid \(original)"))
        pane.keys("y")
        let done = pane.waitFor("the original ended", timeout: 10) { $0.contains("original pid \(original) ended (SIGTERM)") }
        let line = statusLine(done)
        let newPid = Int32(line.firstMatch(of: /new pid (\d+)/).map { String($0.1) } ?? "") ?? 0
        #expect(newPid > 0 && line.hasPrefix("detached: new pid \(newPid); original pid \(original) ended (SIGTERM)"),
                "status line: \(line)")
        defer { Processes.killAndReap(newPid) }
        #expect(Processes.termSignal(Processes.reap(original, within: 5)) == SIGTERM)

        // The copy: same argv and cwd, its own session (not its leader), no terminal.
        let reader = try SnapshotReader()
        let copy = try #require(reader.readProcess(newPid))
        #expect(copy.argv.value?.map { SafeText.display($0) } == argv)
        #expect(copy.cwdText == dir)
        #expect(copy.sid != original && copy.sid != newPid && copy.tty == nil && copy.ttyDevice == 0)
        #expect(reader.environment(of: newPid).value?.contains(Array("MARK=tui-\(m)".utf8)) == true)
        // The log went under XDG_STATE_HOME.
        let logs = (try? Processes.run(["/bin/ls", "\(dir)/state/sessiontop"]))?.stdout ?? ""
        #expect(logs.contains("sleep-\(original)-"))
        // The new process is selected: its detail pane opens on it.
        pane.keys("i")
        pane.waitFor(" pid \(newPid) sleep (i or Esc closes)")
        pane.keys("q")
        pane.expectRestored(exit: 0)
    }

    /// k on a group row: the menu counts its members; TERM reaches both. And the guard rail:
    /// TERM on sessiontop's own row is refused by the core and shown, and the app runs on.
    @Test func groupTargetAndTheSelfGuardRail() throws {
        Processes.becomeSubreaper()
        let m = TextScan.uniqueNumber()
        let leader = try Processes.spawn(["sh", "-c", "sleep 6\(m)1 & exec sleep 6\(m)"]) { $0.newSession = true }
        defer { Processes.killAndReap(leader) }
        var mate: ProcessInfo?
        #expect(waitUntil { mate = find(["sleep", "6\(m)1"], parent: leader); return mate != nil && find(["sleep", "6\(m)"]) != nil })
        let matePid = try #require(mate?.pid)
        defer { Processes.killAndReap(matePid) }

        let pane = TmuxPane(command: sessiontopBinary)
        pane.waitForApp()
        let app = try #require(pane.appPid())
        // sessiontop starts on itself: the menu warns, and the core refuses.
        pane.keys("k")
        pane.waitFor("Signal process \(app) ")
        pane.waitFor("this process is sessiontop itself (pid \(app)): it refuses to signal it")
        pane.keys("Enter", "y")
        let refused = pane.waitFor("refusing to signal sessiontop itself (pid \(app))")
        #expect(statusLine(refused).hasPrefix("SIGTERM → process \(app): refusing to signal sessiontop itself (pid \(app))"))
        #expect(!Processes.isGone(app))

        pane.keys("/")
        pane.waitFor("Search:")
        pane.literal("sleep 6\(m)")
        pane.keys("Enter")
        pane.waitFor("match: sleep 6\(m)")
        pane.keys("Left")  // from the process to its group row
        pane.keys("F9")
        let menu = pane.waitFor("Signal process group \(leader) · 2 processes now")
        #expect(menu.contains("\(leader) sleep 6\(m)") && menu.contains("\(matePid) sleep 6\(m)1"))
        pane.keys("t", "Enter")
        pane.waitFor("Send SIGTERM to process group \(leader) · 2 processes now?")
        pane.keys("y")
        let sent = pane.waitFor("SIGTERM → process group \(leader): 2 sent")
        #expect(statusLine(sent).hasPrefix("SIGTERM → process group \(leader): 2 sent"))
        #expect(Processes.termSignal(Processes.reap(leader, within: 5)) == SIGTERM)
        #expect(Processes.termSignal(Processes.reap(matePid, within: 5)) == SIGTERM)
        pane.keys("q")
        pane.expectRestored(exit: 0)
    }

    /// v in the detach dialog switches to tmux: the copy runs in a new detached tmux session on
    /// the server sessiontop itself runs in ($TMUX), not the original's default one (its
    /// TMUX_TMPDIR points into this test's temp dir: no server may appear there).
    @Test func detachIntoTmux() throws {
        Processes.becomeSubreaper()
        let dir = try TempDirectory.make("tuidetach")
        defer { TempDirectory.remove(dir) }
        let m = TextScan.uniqueNumber()
        let argv = ["sleep", "9\(m)"]
        let original = try Processes.spawn(argv) {
            $0.newSession = true
            $0.workingDirectory = dir
            $0.environment = ["PATH=/usr/bin:/bin", "TMUX_TMPDIR=\(dir)"]
        }
        defer { Processes.killAndReap(original) }
        #expect(waitUntil { find(argv) != nil })
        let socket = "\(dir)/tmux-\(getuid())/default"

        let pane = TmuxPane(command: sessiontopBinary)
        pane.waitForApp()
        pane.keys("/")
        pane.waitFor("Search:")
        pane.literal("sleep 9\(m)")
        pane.keys("Enter")
        pane.waitFor("match: sleep 9\(m)")
        pane.keys("D")
        pane.waitFor("in place")
        pane.keys("r")
        pane.waitFor("via daemonize")
        pane.keys("v")
        let dialog = pane.waitFor("Detach pid \(original) (sleep) via tmux")
        #expect(dialog.contains("launch: ") && dialog.contains("relaunch-sleep-\(original)"))
        pane.keys("y")
        let done = pane.waitFor("the original ended", timeout: 10) { $0.contains("original pid \(original) ended (SIGTERM)") }
        let line = statusLine(done)
        let newPid = Int32(line.firstMatch(of: /new pid (\d+)/).map { String($0.1) } ?? "") ?? 0
        defer { Processes.killAndReap(newPid) }
        let has = pane.tmux(["has-session", "-t", "relaunch-sleep-\(original)"])
        #expect(has.status == 0, "\(has.output)")
        #expect(access(socket, F_OK) != 0, "a server was started on the original's default socket")
        #expect(Processes.termSignal(Processes.reap(original, within: 5)) == SIGTERM)
        let copy = try #require(try SnapshotReader().readProcess(newPid))
        #expect(copy.argv.value?.map { SafeText.display($0) } == argv)
        #expect(copy.cwdText == dir)
        #expect(copy.tty != nil && copy.sid != original)  // a tmux pane: its own terminal
        pane.keys("q")
        pane.expectRestored(exit: 0)
    }
}
