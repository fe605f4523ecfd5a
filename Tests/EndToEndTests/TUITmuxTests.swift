import Testing
import SessionCore
import CSessionShims
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to completion (Spawner + waitpid, never Foundation.Process: tmux daemonizes),
/// returning its exit status and stdout+stderr.
func runTool(_ args: [String], timeout: Double = 10) -> (status: Int32, output: String) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { return (-1, "pipe failed") }
    let devnull = open("/dev/null", O_RDONLY)
    var r = SpawnRequest(args)
    r.fileDescriptors = [(0, devnull), (1, fds[1]), (2, fds[1])]
    let pid: Int32
    do { pid = try Spawner.spawn(r) } catch {
        close(fds[0]); close(fds[1]); close(devnull)
        return (-1, error.description)
    }
    close(fds[1]); close(devnull)
    var out: [UInt8] = []
    let deadline = monotonicNow() + timeout
    var buf = [UInt8](repeating: 0, count: 65536)
    while monotonicNow() < deadline {
        var p = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
        if poll(&p, 1, 100) <= 0 { continue }
        let n = read(fds[0], &buf, buf.count)
        if n <= 0 { break }
        out += buf[0..<n]
    }
    close(fds[0])
    var status: Int32 = 0
    if monotonicNow() >= deadline { kill(pid, SIGKILL) }
    waitpid(pid, &status, 0)
    let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return (code, String(decoding: out, as: UTF8.self))
}

func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// The package root, from this file's path.
let packageRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()
let sessiontopBinary = packageRoot + "/.build/debug/sessiontop"

/// One tmux server per test (`-L <unique>`), killed at the end.
final class TmuxPane {
    let socket: String
    static let counter = Counter()

    final class Counter: @unchecked Sendable {
        private var n = 0
        private var lock = pthread_mutex_t()
        init() { pthread_mutex_init(&lock, nil) }
        func next() -> Int { pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }; n += 1; return n }
    }

    /// Starts `command` (a shell line) in a detached session of the given size. After the
    /// command the pane prints `EXIT:<status>` and `stty -a`, then waits, so the test can
    /// check the terminal it left behind.
    /// `backtrace`: SWIFT_BACKTRACE for the command (nil: Swift's default, as users have it).
    init(width: Int = 100, height: Int = 30, env: String = "LANG=C.UTF-8", backtrace: String? = "interactive=no", command: String) {
        socket = "st-tui-\(getpid())-\(Self.counter.next())-\(UInt32.random(in: 0...UInt32.max))"
        // env(1) takes options before assignments.
        let (unset, set) = backtrace.map { ("", "SWIFT_BACKTRACE=\($0)") } ?? ("-u SWIFT_BACKTRACE", "")
        let line = "trap : INT; env \(unset) \(env) \(set) \(command); echo EXIT:$?; stty -a | tr '\\n' ' '; echo; echo STTY-END; exec sleep 120"
        // Orphans of this test (the tmux server daemon) come back to us, so we can reap them.
        _ = st_set_child_subreaper(1)
        _ = tmux(["new-session", "-d", "-x", "\(width)", "-y", "\(height)", "-s", "t", line])
        serverPid = Int32(display("#{pid}")) ?? 0
    }

    var serverPid: Int32 = 0

    /// Kills and reaps, by pid, everything the test started: the pane's session and the server.
    deinit {
        var pids: [Int32] = []
        if let shell = Int32(display("#{pane_pid}")), let reader = try? SnapshotReader() {
            let snap = reader.snapshot(options: ScanOptions(details: .only([])))
            if let sid = snap.process(shell)?.sid { pids = snap.processes.values.filter { $0.sid == sid }.map(\.pid) }
        }
        _ = tmux(["kill-server"])
        unlink(tmuxSocketPath(socket))  // a killed server leaves its socket file behind
        if serverPid > 0 { pids.append(serverPid) }
        for pid in pids { kill(pid, SIGKILL) }
        let deadline = monotonicNow() + 2
        var left = Set(pids)
        while !left.isEmpty && monotonicNow() < deadline {
            for pid in left {
                var st: Int32 = 0
                let r = waitpid(pid, &st, WNOHANG)
                if r == pid || (r < 0 && errno == ECHILD) { left.remove(pid) }
            }
            if !left.isEmpty { usleep(20_000) }
        }
    }

    @discardableResult
    func tmux(_ args: [String]) -> (status: Int32, output: String) {
        runTool(["env", "-u", "TMUX", "tmux", "-L", socket, "-f", "/dev/null"] + args)
    }

    func capture(escapes: Bool = false) -> String {
        tmux(["capture-pane", "-p", "-t", "t"] + (escapes ? ["-e"] : [])).output
    }

    func keys(_ k: String...) { tmux(["send-keys", "-t", "t"] + k) }
    func literal(_ text: String) { tmux(["send-keys", "-t", "t", "-l", text]) }

    func display(_ format: String) -> String {
        var s = tmux(["display-message", "-p", "-t", "t", format]).output
        while s.last == "\n" { s.removeLast() }
        return s
    }

    /// Polls the screen until `predicate` holds on a settled frame (the same capture twice,
    /// 40 ms apart, so a frame tmux caught half drawn is never returned); `timeout` seconds at
    /// most; returns the last capture.
    @discardableResult
    func waitFor(_ what: String, timeout: Double = 6, _ predicate: (String) -> Bool) -> String {
        let deadline = monotonicNow() + timeout
        var screen = capture()
        while monotonicNow() < deadline {
            if predicate(screen) {
                usleep(40_000)
                let again = capture()
                if again == screen { return screen }
                screen = again
                continue
            }
            usleep(50_000)
            screen = capture()
        }
        if !predicate(screen) { Issue.record("timed out waiting for \(what); screen:\n\(screen)") }
        return screen
    }

    func waitFor(_ text: String, timeout: Double = 6) -> String { waitFor(text, timeout: timeout) { $0.contains(text) } }

    /// The pid of sessiontop: the pane shell's child running it.
    func appPid() -> Int32? {
        guard let shell = Int32(display("#{pane_pid}")), let reader = try? SnapshotReader() else { return nil }
        let snap = reader.snapshot(options: ScanOptions(details: .only([])))
        return snap.processes.values.first { $0.ppid == shell && $0.commText == "sessiontop" }?.pid
    }

    /// After the app ended: its exit status, and the terminal is back to normal (main screen,
    /// echo and canonical mode on, cursor visible).
    func expectRestored(exit expected: Int32, sourceLocation: SourceLocation = #_sourceLocation) {
        let screen = waitFor("STTY-END") { $0.contains("STTY-END") }
        #expect(screen.contains("EXIT:\(expected)"), "exit status", sourceLocation: sourceLocation)
        let flags = screen.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" }).map(String.init)
        #expect(flags.contains("echo") && !flags.contains("-echo"), "echo is on", sourceLocation: sourceLocation)
        #expect(flags.contains("icanon") && !flags.contains("-icanon"), "canonical mode", sourceLocation: sourceLocation)
        #expect(flags.contains("icrnl") && flags.contains("onlcr"), "newline mapping", sourceLocation: sourceLocation)
        #expect(display("#{alternate_on}") == "0", "left the alternate screen", sourceLocation: sourceLocation)
        #expect(display("#{cursor_flag}") == "1", "cursor visible", sourceLocation: sourceLocation)
    }

    func waitForApp() -> String {
        let s = waitFor("the first frame") { $0.contains("sessiontop ") && $0.contains("F10Quit") }
        #expect(display("#{alternate_on}") == "1")
        return s
    }
}

@Suite(.serialized) struct TUITmuxTests {
    init() {
        #expect(access(sessiontopBinary, X_OK) == 0, "build first: swift build")
    }

    @Test func navigateSearchDetailFilterTableHelpAndQuit() throws {
        let marker = "61\(Int.random(in: 1000...9999))"
        let pane = TmuxPane(command: "sh -c 'sleep $((\(marker))) & sleep $((\(marker)1)) & exec \(sessiontopBinary)'")
        let first = pane.waitForApp()
        #expect(first.contains("this terminal"))
        // Search opens the match and selects it; the detail pane shows it.
        pane.keys("/")
        pane.waitFor("Search:")
        pane.literal("sleep \(marker)")
        pane.keys("Enter")
        pane.waitFor("match: sleep \(marker)")
        pane.keys("i")
        var s = pane.waitFor("detail pane") { $0.contains(" pid ") && $0.contains("(i or Esc closes)") }
        let line = s.split(separator: "\n").first { $0.contains("(i or Esc closes)") }.map(String.init) ?? ""
        #expect(line.contains("sleep"))
        #expect(s.contains("argv [sleep] [\(marker)]"))
        #expect(s.contains("umask"))
        // Down moves to the other sleep (its younger sibling in the same group).
        pane.keys("Down")
        s = pane.waitFor("moved selection") { $0.contains("argv [sleep] [\(marker)1]") }
        pane.keys("Escape")
        pane.waitFor("pane closed") { !$0.contains("(i or Esc closes)") }
        // n goes to the next match, wrapping back to the first sleep.
        pane.keys("n")
        pane.waitFor("search wrapped")
        pane.keys("i")
        pane.waitFor("back on the first") { $0.contains("argv [sleep] [\(marker)]") }
        pane.keys("i")
        // Filter: my session only: the tmux server's session (no tty) disappears.
        pane.keys("f")
        s = pane.waitFor("filter my session")
        #expect(!s.contains("no tty"))
        pane.keys("f", "f", "f", "f")
        pane.waitFor("filter all")
        // Table view, sorted.
        pane.keys("t")
        pane.waitFor("view table")
        pane.keys("s")
        pane.waitFor("view table by ppid")
        pane.keys("t", "?")
        pane.waitFor("tag a process")
        pane.keys("x")
        pane.waitFor("help closed") { !$0.contains("tag a process") && $0.contains("view tree") }
        pane.keys("e")
        pane.waitFor("event leader-exit")
        pane.keys("q")
        pane.expectRestored(exit: 0)
    }

    @Test func resizeDownToTooSmallAndBack() {
        let pane = TmuxPane(width: 100, height: 30, command: sessiontopBinary)
        pane.waitForApp()
        pane.tmux(["resize-window", "-t", "t", "-x", "60", "-y", "20"])
        // The F-bar shortens but keeps F10.
        var s = pane.waitFor("60 columns") { $0.contains("F10Quit") && $0.contains("F1Help") && !$0.contains("F2Setup") && $0.split(separator: "\n").count <= 20 }
        #expect(s.split(separator: "\n").allSatisfy { $0.count <= 60 })
        pane.tmux(["resize-window", "-t", "t", "-x", "30", "-y", "8"])
        s = pane.waitFor("too small")
        pane.tmux(["resize-window", "-t", "t", "-x", "120", "-y", "40"])
        s = pane.waitFor("big again") { $0.contains("F10Quit") && !$0.contains("too small") }
        #expect(s.contains("sessiontop "))
        pane.keys("q")
        pane.expectRestored(exit: 0)
    }

    @Test func quitsOnCtrlC() {
        let pane = TmuxPane(command: sessiontopBinary)
        pane.waitForApp()
        pane.keys("C-c")
        pane.expectRestored(exit: 130)
    }

    @Test func quitsOnSIGTERMAndSIGHUP() throws {
        for (sig, code) in [(SIGTERM, Int32(143)), (SIGHUP, Int32(129))] {
            let pane = TmuxPane(command: sessiontopBinary)
            pane.waitForApp()
            let pid = try #require(pane.appPid())
            kill(pid, sig)
            pane.expectRestored(exit: code)
        }
    }

    @Test func crashRestoresTheTerminal() throws {
        let pane = TmuxPane(command: sessiontopBinary)
        pane.waitForApp()
        let pid = try #require(pane.appPid())
        kill(pid, SIGSEGV)
        pane.expectRestored(exit: 139)
    }

    @Test func unknownTerminalAndNonUTF8Locale() {
        let bad = TmuxPane(env: "TERM=no-such-terminal", command: sessiontopBinary)
        let s = bad.waitFor("STTY-END")
        #expect(s.contains("sessiontop: unknown terminal type 'no-such-terminal'"))
        bad.expectRestored(exit: 1)

        let unset = TmuxPane(env: "-u TERM", command: sessiontopBinary)
        #expect(unset.waitFor("STTY-END").contains("sessiontop: TERM is not set"))
        unset.expectRestored(exit: 1)

        // Odd bytes in argv, shown escaped; a C locale gets ASCII only.
        let odd = TmuxPane(env: "LANG=C LC_ALL=C",
                           command: "bash -c 'exec -a \"$(printf \"odd\\033[31mname\\377日\")\" sleep 600 & exec \(sessiontopBinary)'")
        odd.waitForApp()
        odd.keys("/")
        odd.literal("odd")
        odd.keys("Enter")
        let screen = odd.waitFor("odd\\x1b[31mname\\xff")
        #expect(screen.contains("|-") || screen.contains("`-") || screen.contains("+ session"))
        #expect(!odd.capture(escapes: true).contains("\u{1b}[31mname"))
        odd.keys("q")
        odd.expectRestored(exit: 0)
    }

    @Test func notATerminal() {
        let r = runTool([sessiontopBinary])
        #expect(r.status != 0)
        #expect(r.output.contains("sessiontop snapshot"))
        #expect(r.output.split(separator: "\n").count == 1)
        let d = runTool([sessiontopBinary, "-d", "0"])
        #expect(d.status != 0 && d.output.contains("--delay"))
    }

    @Test func mouseClickSelectsAndWheelScrolls() {
        let pane = TmuxPane(env: "LANG=C.UTF-8 TERM=xterm-256color", command: sessiontopBinary)
        pane.waitForApp()
        // Only our session, so that rows do not move under the click.
        pane.keys("f")
        let s = pane.waitFor("filter my session")
        let lines = s.split(separator: "\n", omittingEmptySubsequences: false)
        guard let y = lines.firstIndex(where: { $0.contains("▾ group") }) else {
            Issue.record("no group row:\n\(s)"); return
        }
        let pgid = lines[y].split(separator: " ").dropFirst(2).first.map(String.init) ?? "?"
        // SGR mouse: press and release of button 1 at (col 20, row y), 1-based.
        pane.literal("\u{1b}[<0;20;\(y + 1)M\u{1b}[<0;20;\(y + 1)m")
        pane.keys("i")
        pane.waitFor("detail of the clicked group") { $0.contains(" group \(pgid) (i or Esc closes)") }
        // The wheel moves the selection down to a process.
        pane.literal("\u{1b}[<65;20;\(y + 1)M")
        pane.waitFor("wheel moved to a process") { $0.contains(" pid ") && $0.contains("(i or Esc closes)") }
        pane.keys("q")
        pane.expectRestored(exit: 0)
    }
}
