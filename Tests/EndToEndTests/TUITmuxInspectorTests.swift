import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// Issue 11 through the built binary in tmux, on real processes: tagging and `k` on the tagged
/// set, horizontal scroll at 80 columns, the detail view scrolling through 280 pipes.
@Suite struct TUITmuxInspectorTests {
    init() {
        #expect(access(sessiontopBinary, X_OK) == 0, "build first: swift build")
    }

    func find(_ argv: [String]) -> ProcessInfo? {
        guard let reader = try? SnapshotReader() else { return nil }
        return reader.snapshot().processes.values.first { p in
            !p.state.isGone && p.argv.value?.map { SafeText.display($0) } == argv
        }
    }

    /// Three sleeps in a session of their own; two are tagged (search + Space), `k`, TERM, y:
    /// exactly those two get SIGTERM, the third lives on.
    @Test func tagTwoAndSignalTheTaggedSet() throws {
        Processes.becomeSubreaper()
        let m = TextScan.uniqueNumber()
        let leader = try Processes.spawn(["sh", "-c", "sleep 8\(m)1 & sleep 8\(m)2 & exec sleep 8\(m)"]) { $0.newSession = true }
        defer { Processes.killAndReap(leader) }
        var a: ProcessInfo?, b: ProcessInfo?
        #expect(waitUntil { a = find(["sleep", "8\(m)1"]); b = find(["sleep", "8\(m)2"]); return a != nil && b != nil && find(["sleep", "8\(m)"]) != nil })
        let pa = try #require(a?.pid), pb = try #require(b?.pid)
        defer { Processes.killAndReap(pa); Processes.killAndReap(pb) }

        // --sid: only that session, opened.
        let pane = TmuxPane(command: "\(sessiontopBinary) --sid \(leader)")
        pane.waitForApp()
        pane.waitFor("sleep 8\(m)2")
        for target in ["sleep 8\(m)1", "sleep 8\(m)2"] {
            pane.keys("/")
            pane.waitFor("Search:")
            pane.literal(target)
            pane.keys("Enter")
            pane.waitFor("match: \(target)")
            pane.keys("Space")
            pane.waitFor("tagged (k signals them")
        }
        pane.waitFor("2 processes tagged")
        let tagged = pane.capture()
        let lines = tagged.split(separator: "\n")
        func line(_ arg: String) -> String { lines.first { $0.hasSuffix("sleep \(arg)") }.map(String.init) ?? "" }
        #expect(line("8\(m)1").contains("● ") && line("8\(m)2").contains("● "))
        #expect(!line("8\(m)").contains("●"), "the third is not tagged")
        pane.keys("k")
        let menu = pane.waitFor("Signal 2 tagged processes")
        #expect(menu.contains("\(pa) sleep 8\(m)1") && menu.contains("\(pb) sleep 8\(m)2"))
        pane.keys("Enter")  // TERM, first in the menu
        pane.waitFor("Send SIGTERM to 2 tagged processes?")
        #expect(!Processes.isGone(pa) && !Processes.isGone(pb), "nothing sent before y")
        pane.keys("y")
        pane.waitFor("SIGTERM → 2 tagged processes: 2 sent")
        #expect(waitUntil { Processes.isGone(pa) && Processes.isGone(pb) })
        #expect(!Processes.isGone(leader), "the untagged one lives")
        pane.keys("q")
        pane.expectRestored(exit: 0)
    }

    /// At 80 columns a long command line is cut with `…`; → brings its end into view, ← back.
    @Test func horizontalScrollAt80Columns() throws {
        Processes.becomeSubreaper()
        let m = TextScan.uniqueNumber()
        let name = "/opt/a/rather/long/install/prefix/of/some/tool/bin/worker-\(m)-with-many-words-before-TAIL\(m)"
        let pid = try Processes.spawn(["bash", "-c", "exec -a \(name) sleep 600"]) { $0.newSession = true }
        defer { Processes.killAndReap(pid) }
        #expect(waitUntil { find([name, "600"]) != nil })
        let pane = TmuxPane(width: 80, height: 24, command: "\(sessiontopBinary) -p \(pid)")
        pane.waitForApp()
        var s = pane.waitFor("/opt/a/rather")
        let row = { (screen: String) in screen.split(separator: "\n").first { $0.contains(" \(pid) root ") }.map(String.init) ?? "" }
        #expect(row(s).hasSuffix("…") && !row(s).contains("TAIL\(m)"))
        pane.keys("/")
        pane.literal("worker-\(m)")
        pane.keys("Enter")
        pane.waitFor("match: worker")
        for _ in 0..<12 { pane.keys("Right") }
        s = pane.waitFor("TAIL\(m)")
        #expect(s.contains("scrolled"))
        #expect(!row(s).contains("/opt/a/rather"))
        for _ in 0..<12 { pane.keys("Left") }
        s = pane.waitFor("back at the start") { $0.contains("/opt/a/rather") && !$0.contains("scrolled") }
        // Every line fits 80 columns and F10 is on the bar.
        #expect(s.split(separator: "\n").allSatisfy { $0.count <= 80 })
        #expect(s.contains("F10Quit"))
        pane.keys("q")
        pane.expectRestored(exit: 0)
    }

    /// A process with 280 pipes: Enter opens the detail view; the fds are counted by kind, `o`
    /// lists them with decoded flags, End reaches the hangup verdict, Home the identity.
    @Test func detailViewScrollsThroughManyFds() throws {
        Processes.becomeSubreaper()
        let m = TextScan.uniqueNumber()
        let pid = try Processes.spawn(["python3", "-c", "import os,time; p=[os.pipe() for _ in range(140)]; time.sleep(600)", "\(m)"]) { $0.newSession = true }
        defer { Processes.killAndReap(pid) }
        #expect(waitUntil { (try? SnapshotReader().readProcess(pid)?.fds.value?.count ?? 0) ?? 0 >= 280 })
        let pane = TmuxPane(width: 80, height: 24, command: "\(sessiontopBinary) -p \(pid)")
        pane.waitForApp()
        pane.waitFor("python3")
        pane.keys("/")
        pane.literal("\(m)")
        pane.keys("Enter")
        pane.waitFor("match: \(m)")
        pane.keys("Enter")
        pane.waitFor("━ identity")
        pane.keys("4")
        var s = pane.waitFor("280 pipes")
        #expect(s.contains("━ fds"))
        pane.keys("o")
        s = pane.waitFor("280 pipes  (o: by kind)")
        pane.keys("PageDown")
        s = pane.waitFor("pipe:[")
        // fdinfo was read for the process in the detail view: flags by name.
        s = pane.waitFor("flags decoded") { $0.contains("O_RDONLY") || $0.contains("O_WRONLY") }
        pane.keys("End")
        s = pane.waitFor("━ hangup")
        #expect(s.contains("of "))
        pane.keys("Home")
        pane.waitFor("━ identity")
        pane.keys("Escape")
        pane.waitFor("back to the list") { !$0.contains("━ identity") && $0.contains("python3") }
        pane.keys("q")
        pane.expectRestored(exit: 0)
    }

    /// The side pane (`i`) at 80×24: PgDn and End scroll the pane down to the hangup verdict,
    /// Home back to the identity; the list's selection does not move meanwhile.
    @Test func sidePaneScrollsWithThePagingKeys() throws {
        Processes.becomeSubreaper()
        let m = TextScan.uniqueNumber()
        let pid = try Processes.spawn(["sleep", "4\(m)"]) { $0.newSession = true }
        defer { Processes.killAndReap(pid) }
        #expect(waitUntil { (try? SnapshotReader().readProcess(pid)) != nil })
        let pane = TmuxPane(width: 80, height: 24, command: "\(sessiontopBinary) -p \(pid)")
        pane.waitForApp()
        pane.keys("/")
        pane.literal("4\(m)")
        pane.keys("Enter")
        pane.waitFor("match: 4\(m)")
        pane.keys("i")
        let top = pane.waitFor(" pid \(pid) sleep (i or Esc closes)")
        #expect(top.contains("━ identity") && !top.contains("━ hangup"), "\(top)")
        pane.keys("End")
        let end = pane.waitFor("━ hangup")
        #expect(!end.contains("━ identity") && end.contains(" pid \(pid) sleep"), "\(end)")
        pane.keys("Home")
        let back = pane.waitFor("━ identity")
        #expect(back.contains(" pid \(pid) sleep (i or Esc closes)"))
        pane.keys("PageDown")
        let down = pane.waitFor("scrolled") { !$0.contains("━ identity") }
        #expect(down.contains(" pid \(pid) sleep"), "the selection stayed on the process: \(down)")
        pane.keys("q")
        pane.expectRestored(exit: 0)
    }

    /// F2: the setup screen; nothing is written until `s`, then the file holds the setup, and a
    /// new inspector starts with it.
    @Test func setupIsSavedOnlyWhenAsked() throws {
        let dir = try TempDirectory.make("xdg")
        defer { TempDirectory.remove(dir) }
        let config = dir + "/sessiontop/config"
        let pane = TmuxPane(env: "LANG=C.UTF-8 XDG_CONFIG_HOME=\(dir)", command: sessiontopBinary)
        pane.waitForApp()
        pane.keys("F2")
        pane.waitFor("Tree columns")
        pane.keys("Down", "Space")  // PPID into the tree
        pane.waitFor("[x] PPID")
        pane.keys("Escape")
        pane.waitFor("setup closed")
        #expect(access(config, F_OK) != 0, "nothing written without s")
        pane.keys("F2")
        pane.waitFor("Tree columns")
        pane.keys("s")
        pane.waitFor("setup saved to \(config)")
        let text = Files.read(config) ?? ""
        #expect(text.contains("tree_columns = pid,ppid,user,state,cpu,rss,age\n"), "\(text)")
        pane.keys("Escape", "q")
        pane.expectRestored(exit: 0)
        // The next start reads it: PPID is a tree column now.
        let again = TmuxPane(env: "LANG=C.UTF-8 XDG_CONFIG_HOME=\(dir)", command: sessiontopBinary)
        again.waitForApp()
        again.waitFor("PPID column") { $0.contains("    PID    PPID USER") }
        again.keys("q")
        again.expectRestored(exit: 0)
    }
}
