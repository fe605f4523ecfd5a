@preconcurrency import CCurses
import SessionCore
#if canImport(Glibc)
import Glibc
#endif

/// How the host runs the inspector.
public struct AppOptions: Sendable {
    public var procRoot = "/proc"
    /// Where systemd-logind's configuration and state are read (`/`).
    public var configRoot = "/"
    public var interval = 1.5
    public var color = true
    /// When set, the wall-clock time of the first frame (ns since the epoch) is written here
    /// (`SESSIONTOP_FIRST_FRAME_FILE`, for the benchmark).
    public var firstFrameFile: String?
    /// When set, the wall-clock time (ns since the epoch) of every frame drawn after input is
    /// appended here (`SESSIONTOP_KEY_DRAWN_FILE`, for the key-press-to-draw benchmark).
    public var keyDrawnFile: String?
    /// When set, one line per applied scan is appended: apply, render, scan CPU (µs), processes
    /// (`SESSIONTOP_TIMING_FILE`, for the benchmark's breakdown).
    public var timingFile: String?
    /// `-d` was given: it wins over the saved setup's interval.
    public var intervalGiven = false
    /// `-p PID,…`, `-u USER` (as a uid), `--sid S`: only these are listed.
    public var onlyPids: Set<Int32>?
    public var onlyUID: UInt32?
    /// `--readonly`: no signal or detach keys.
    public var readonly = false
    /// `--sid`: list only this session (following its terminal when the session is replaced).
    public var pinnedSid: Int32?
    public init() {}
}

/// The host: owns the terminal, the scanner, the clock and signals; runs `update`/`render`
/// and executes effects.
public enum App {
    public enum Failure: Error, CustomStringConvertible {
        case noTerminalType
        case unknownTerminal(String)
        case cannotOpen(String)
        public var description: String {
            switch self {
            case .noTerminalType: return "TERM is not set: set it (e.g. TERM=xterm-256color), or use `sessiontop snapshot`"
            case .unknownTerminal(let t): return "unknown terminal type '\(t)' (TERM): try TERM=xterm-256color, or use `sessiontop snapshot`"
            case .cannotOpen(let m): return m
            }
        }
    }

    static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Runs until q or a quit signal; returns the exit status (0, or 128 + signal).
    public static func run(_ options: AppOptions) throws(Failure) -> Int32 {
        let reader: SnapshotReader
        do { reader = try SnapshotReader(root: options.procRoot) } catch { throw .cannotOpen(error.description) }
        reader.configRoot = options.configRoot
        guard let term = getenv("TERM").map({ String(cString: $0) }), !term.isEmpty else { throw .noTerminalType }

        cc_install_crash_restore()
        let quitFD = cc_install_quit_pipe()
        let terminal: Terminal
        do { terminal = try Terminal(term: term, wantColor: options.color) } catch { throw .unknownTerminal(term) }
        defer { terminal.stop() }
        cc_arm_restore()

        // First frame: `stat` for everyone, details for sessiontop's own process only; the
        // next scan (right after) reads status and details and the analysis runs.
        var snap = reader.snapshot(options: ScanOptions(details: .only([reader.selfPid])))
        let size = terminal.size
        var state = AppState(snapshot: snap, width: size.width, height: size.height, color: terminal.color,
                             unicode: terminal.utf8, interval: options.interval, myUID: getuid(), analysisPending: true)
        state.now = monotonic()
        // The saved setup (F2), if any; the command line wins over it.
        if let (config, problems) = ActionHost.loadConfig() {
            var c = config
            if options.intervalGiven { c.interval = options.interval }
            c.color = c.color && terminal.color
            state.apply(c)
            if let p = problems.first { state.setNote("config: " + p) }
        }
        // What sessiontop detached in place before (its state file; only when there is one).
        state.detachRecords = DetachRecord.load()
        state.onlyPids = options.onlyPids
        state.onlyUID = options.onlyUID
        if let sid = options.pinnedSid { state.pinSession(sid) }
        if options.readonly { state.readonlyReason = "read-only (--readonly): no signals, no detach" }
        state.openScopedSessions()
        state.rebuildRows()
        state.clampScroll()
        // Signals and detach act on real processes: only when the tree shown is the live /proc.
        let live = options.procRoot == "/proc" || options.procRoot == "/proc/"
        if !live { state.actionsDisabled = "signals and detach act on the live /proc only, not on --proc-root \(options.procRoot)" }
        let actions = ActionHost(reader: reader, live: live)
        var screen = Screen(width: size.width, height: size.height)
        render(state, into: &screen)
        terminal.draw(screen)
        if let path = options.firstFrameFile { writeTimestamp(path) }
        // SESSIONTOP_SELFTEST=stack-overflow|segv|abort crashes here, for the restore tests.
        if let kind = getenv("SESSIONTOP_SELFTEST") { cc_selftest_crash(kind) }

        var nextScan = monotonic()  // the full details right after the first frame
        // Scans run on their own thread when they can (keys are drawn while /proc is read).
        let scanner = BackgroundScanner(root: options.procRoot, configRoot: options.configRoot)
        var cursor = 0
        var exitCode: Int32 = 0

        /// Runs effects; the actions' results go back through `update` (which may ask for
        /// more). True when the app must quit.
        func perform(_ effects: [Effect]) -> Bool {
            var queue = effects
            while !queue.isEmpty {
                let effect = queue.removeFirst()
                switch effect {
                case .quit: return true
                case .refreshNow: nextScan = 0
                default:
                    if let result = actions.perform(effect, snapshot: snap) {
                        state.now = monotonic()
                        queue += update(&state, result)
                    }
                }
            }
            return false
        }

        loop: while true {
            let now = monotonic()
            // While a scan runs, its wake byte ends the wait; a second at most either way.
            let wait = scanner?.busy == true ? 1000 : Int32(max(0, min(1000, ((nextScan - now) * 1000).rounded(.up))))
            // poll(2) skips negative fds.
            var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: quitFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: actions.wakeFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: scanner?.wakeFD ?? -1, events: Int16(POLLIN), revents: 0)]
            let n = poll(&fds, 4, wait)
            var dirty = false
            var input = false
            if n > 0 && fds[1].revents & Int16(POLLIN) != 0 {
                var b: UInt8 = 0
                _ = read(quitFD, &b, 1)
                exitCode = 128 + Int32(b)
                break loop
            }
            if n > 0 && fds[0].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 && fds[0].revents & Int16(POLLIN) == 0 {
                exitCode = 1  // the terminal went away
                break loop
            }
            // Keys, mouse and KEY_RESIZE (ncurses' SIGWINCH handler interrupts poll), then what
            // background actions reported.
            for ev in terminal.readEvents() + actions.takeEvents() {
                dirty = true
                input = true
                state.now = monotonic()
                if perform(update(&state, ev)) { break loop }
            }
            // Paused: no scans at all (r asks for one).
            if state.paused && !state.refreshRequested && monotonic() >= nextScan { nextScan = monotonic() + state.interval }
            if let (new, verdicts) = scanner?.take() {
                snap = new
                let t0 = monotonic()
                state.precomputed = verdicts
                let effects = update(&state, .snapshot(snap, now: monotonic()))
                if let path = options.timingFile {
                    let t1 = monotonic()
                    render(state, into: &screen)
                    let t2 = monotonic()
                    let scanCPU = Int((scanner?.lastScanCPU ?? 0) * 1e6)
                    appendLine(path, "apply_us=\(Int((t1 - t0) * 1e6)) render_us=\(Int((t2 - t1) * 1e6)) scan_cpu_us=\(scanCPU) processes=\(snap.processes.count)")
                }
                nextScan = min(nextScan, monotonic() + state.interval)
                dirty = true
                // A scan may ask for effects (a hung-up session's surprises to log).
                if perform(effects) { break loop }
            }
            if monotonic() >= nextScan && scanner?.busy != true {
                var opts = ScanOptions(details: .refresh(detailPids(state, cursor: &cursor), previous: snap))
                opts.statusWithDetails = true
                // Off-screen processes asleep with no CPU over their last reads: every other
                // scan (issue 11 §8; what is on screen, selected or tagged is read every scan).
                opts.idleEvery = 2
                if state.detailOpen || state.detailFull, let p = state.selectedProcess { opts.fdInfoFor = [p.pid] }
                if let scanner {
                    // The analysis for the event shown runs on the worker (the UI thread only
                    // swaps it in); an event changed meanwhile is analysed here instead.
                    scanner.request(opts, analyze: state.event)
                    // The next one is timed from when this one arrives (or r asks sooner).
                    nextScan = .greatestFiniteMagnitude
                } else {
                    snap = reader.snapshot(options: opts)
                    // A scan may ask for effects (a hung-up session's surprises to log).
                    if perform(update(&state, .snapshot(snap, now: monotonic()))) { break loop }
                    nextScan = monotonic() + state.interval
                    dirty = true
                }
            }
            if dirty {
                render(state, into: &screen)
                terminal.draw(screen)
                if input, let path = options.keyDrawnFile { appendTimestamp(path) }
            }
        }
        return exitCode
    }

    /// The pids whose status, argv, cwd and fds are re-read this tick: the visible rows, the
    /// selection, the tagged and followed processes, session leaders on screen, every member
    /// of sessiontop's own session, and a round-robin slice of everyone else (all within ~20
    /// ticks).
    static func detailPids(_ state: AppState, cursor: inout Int) -> Set<Int32> {
        var out = Set<Int32>()
        let l = state.layout
        let end = min(state.rows.count, state.scrollTop + l.listHeight)
        if state.scrollTop < end {
            for r in state.rows[state.scrollTop..<end] {
                switch r.key {
                case .process(let id): out.insert(id.pid)
                case .session(let sid): out.insert(sid)
                case .group(let pgid): out.insert(pgid)
                case .gone: break
                }
            }
        }
        if let p = state.selectedProcess { out.insert(p.pid) }
        for id in state.tagged { out.insert(id.pid) }
        if let f = state.following { out.insert(f.pid) }
        // The header's "if this terminal hangs up" counts: this session's signal masks fresh
        // every tick, not up to 20 ticks old.
        if let sid = state.snapshot.selfSid, let mine = state.snapshot.session(sid) {
            for g in mine.groups { out.formUnion(g.members) }
        }
        let all = state.snapshot.processes.keys.sorted()
        guard !all.isEmpty else { return out }
        let slice = max(16, all.count / 20)
        for i in 0..<min(slice, all.count) { out.insert(all[(cursor + i) % all.count]) }
        cursor = (cursor + slice) % all.count
        return out
    }

    static func appendTimestamp(_ path: String) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        appendLine(path, "\(Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))")
    }

    static func appendLine(_ path: String, _ line: String) {
        let text = line + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { return }
        _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
    }

    static func writeTimestamp(_ path: String) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let text = "\(Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
    }
}
