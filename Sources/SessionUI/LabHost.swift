@preconcurrency import CCurses
import SessionCore
#if canImport(Glibc)
import Glibc
#endif

/// How `sessiontop lab` runs inside its tmux pane.
public struct LabOptions: Sendable {
    /// The tmux server's socket path (`-S`), from $TMUX.
    public var socketPath: String
    /// The lab terminal's pane (`%0`), nil to open one.
    public var pane: String?
    /// sessiontop's own pane ($TMUX_PANE), where new lab terminals are split from.
    public var ownPane: String?
    public var shell: LabShell
    public var login: Bool
    /// The lab's temporary working directory.
    public var directory: String
    /// The command line tmux runs for a new lab terminal.
    public var shellCommand: String
    /// lab.jsonl; nil: `LabLog.defaultPath()`.
    public var logPath: String?
    public init(socketPath: String, pane: String?, ownPane: String?, shell: LabShell, login: Bool,
                directory: String, shellCommand: String, logPath: String? = nil) {
        self.socketPath = socketPath
        self.pane = pane
        self.ownPane = ownPane
        self.shell = shell
        self.login = login
        self.directory = directory
        self.shellCommand = shellCommand
        self.logPath = logPath
    }
}

/// Runs the lab's effects: tmux commands on the private server (close a pane's pty, type
/// `exit`, split a new lab terminal), SIGKILL to the leader through SignalSender (pidfd +
/// start time), and the RealityWatch after each event, a look every tick of the host loop.
final class LabHost {
    let options: LabOptions
    let reader: SnapshotReader
    private let sender: SignalSender?
    private var watch: RealityWatch?
    /// logout: `exit` typed at (1 or 2 times), when; the pane is closed once the leader died.
    private var exiting: (pane: String, leader: ProcessIdentity, typed: Int, at: Double)?
    private var paneClosed = true
    private var maximum = 6.0
    private var lessonText = ""

    init(options: LabOptions, reader: SnapshotReader) {
        self.options = options
        self.reader = reader
        sender = try? SignalSender()
    }

    var busy: Bool { watch != nil }

    /// Runs `tmux -S socket args…` to the end: status and stdout (Spawner, never fork here).
    @discardableResult
    func tmux(_ args: [String]) -> (status: Int32, output: String) {
        LabTmux.run(["tmux", "-S", options.socketPath] + args)
    }

    func panePid(_ pane: String) -> Int32? {
        let r = tmux(["display-message", "-p", "-t", pane, "#{pane_pid} #{pane_dead}"])
        let parts = r.output.split(separator: " ")
        guard r.status == 0, parts.count >= 2, parts[1].hasPrefix("0") else { return nil }
        return Int32(parts[0])
    }

    /// The first lab terminal: the given pane, or a new one.
    func start() -> [AppEvent] {
        if let p = options.pane, let pid = panePid(p) {
            tmux(["set-option", "-p", "-t", p, "remain-on-exit", "on"])
            return [.lab(.terminal(pane: p, leader: pid))]
        }
        return newTerminal(replacing: nil)
    }

    func perform(_ e: LabEffect, state: AppState) -> [AppEvent] {
        switch e {
        case .log(let t):
            LabLog.append(t, source: "lab", path: options.logPath)
            return []
        case .newTerminal:
            watch = nil
            exiting = nil
            return newTerminal(replacing: state.lab?.pane)
        case .perform(let event):
            guard let lab = state.lab, let pane = lab.pane, let leader = lab.leader else {
                return [.lab(.failed("no lab terminal: press N"))]
            }
            // A fresh, full scan: the prediction is frozen from what is true right now.
            let snap = reader.snapshot()
            guard let freeze = PredictionFreeze(snap, session: leader, event: event),
                  let leaderInfo = snap.process(leader) else {
                return [.lab(.failed("the lab terminal's session \(leader) is gone: press N"))]
            }
            lessonText = lab.finished ? "all lessons done" : "lesson \(lab.lesson + 1)/\(lab.lessons.count) step \(lab.step + 1)"
            let w = RealityWatch(freeze, procRoot: reader.rootPath)
            maximum = event == .logout ? 12 : 6
            switch event {
            case .hangup:
                // tmux closes the pane's pty master: the kernel hangs the terminal up
                // (drivers/tty/pty.c pty_close → tty_vhangup).
                let r = tmux(["kill-pane", "-t", pane])
                guard r.status == 0 else { return [.lab(.failed("tmux kill-pane \(pane) failed: \(r.output)"))] }
                paneClosed = true
            case .leaderExit:
                guard let sender else { return [.lab(.failed("cannot send signals here"))] }
                let outcome = sender.sendChecked(SIGKILL, leaderInfo.identity)
                guard outcome.isSent else { return [.lab(.failed("SIGKILL to the leader \(leader) not sent: \(outcome)"))] }
                paneClosed = true  // the terminal stays: remain-on-exit keeps the pty open
            case .logout:
                tmux(["send-keys", "-t", pane, "-l", "exit"])
                tmux(["send-keys", "-t", pane, "Enter"])
                exiting = (pane, leaderInfo.identity, 1, RealityWatch.monotonic())
                paneClosed = false
            }
            watch = w
            return [.lab(.started(freeze))]
        }
    }

    /// One look; the table once the watch settled.
    func tick() -> [AppEvent] {
        guard let w = watch else { return [] }
        let now = RealityWatch.monotonic()
        w.observe(now: now)
        if let x = exiting {
            let dead = sender?.identity(of: x.leader.pid) != x.leader || isZombie(x.leader.pid)
            if dead || now - x.at > 6 {
                // The shell is gone (or would not go): the terminal goes away.
                tmux(["kill-pane", "-t", x.pane])
                exiting = nil
                paneClosed = true
            } else if x.typed == 1 && now - x.at > 1.5 {
                // Shells refuse the first exit with stopped (and, zsh, running) jobs.
                tmux(["send-keys", "-t", x.pane, "-l", "exit"])
                tmux(["send-keys", "-t", x.pane, "Enter"])
                exiting = (x.pane, x.leader, 2, x.at)
            }
        }
        guard paneClosed, w.settled(now: now, quiet: 1.2, minimum: 1.5, maximum: maximum) else { return [] }
        let table = w.table(now: now)
        watch = nil
        let scene = ["shell": options.shell.rawValue + (options.login ? " --login" : ""), "lesson": lessonText]
        let log: String
        switch LabLog.append(table, source: "lab", scene: scene, path: options.logPath) {
        case .success(let p): log = p
        case .failure(let e): log = "not logged: \(e.description)"
        }
        return [.lab(.reality(table, log: log))]
    }

    private func isZombie(_ pid: Int32) -> Bool { reader.readProcess(pid)?.state.isGone ?? true }

    private func newTerminal(replacing old: String?) -> [AppEvent] {
        if let old { tmux(["kill-pane", "-t", old]) }
        let width = Int(tmux(["display-message", "-p", "#{window_width}"]).output.filter(\.isNumber)) ?? 80
        var args = ["split-window", "-b", width >= 160 ? "-h" : "-v", "-l", width >= 160 ? "50%" : "40%",
                    "-P", "-F", "#{pane_id} #{pane_pid}", "-c", options.directory]
        if let own = options.ownPane { args += ["-t", own] }
        args.append(options.shellCommand)
        let r = tmux(args)
        let parts = r.output.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard r.status == 0, parts.count >= 2, let pid = Int32(parts[1]) else {
            return [.lab(.failed("cannot open a new lab terminal: tmux \(r.output)"))]
        }
        let pane = String(parts[0])
        tmux(["set-option", "-p", "-t", pane, "remain-on-exit", "on"])
        tmux(["select-pane", "-t", pane])
        return [.lab(.terminal(pane: pane, leader: pid))]
    }
}

/// Runs tmux (or any short tool) to the end through Spawner, collecting stdout and stderr.
public enum LabTmux {
    public static func run(_ argv: [String], timeout: Double = 5) -> (status: Int32, output: String) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return (-1, "pipe failed") }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        let devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        var r = SpawnRequest(argv)
        r.fileDescriptors = [(0, devnull), (1, fds[1]), (2, fds[1])]
        let pid: Int32
        do { pid = try Spawner.spawn(r) } catch {
            close(fds[0]); close(fds[1]); close(devnull)
            return (-1, error.description)
        }
        close(fds[1]); close(devnull)
        let out = Pipes.drain([fds[0]], timeout: timeout)
        var status: Int32 = 0
        var w: Int32
        repeat { w = waitpid(pid, &status, 0) } while w < 0 && errno == EINTR
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        var text = String(decoding: out.first ?? [], as: UTF8.self)
        while text.last == "\n" { text.removeLast() }
        return (code, text)
    }
}
