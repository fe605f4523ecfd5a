import ArgumentParser
import SessionCore
import SessionUI
#if canImport(Glibc)
import Glibc
#endif

extension LabShell: ExpressibleByArgument {}

/// `sessiontop lab`: a tmux session on a private socket with two panes, the lab terminal (a
/// fresh interactive shell) and sessiontop pinned to its session with the lessons (issue 12).
struct LabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Learn sessions and hangups on a real terminal, then hang it up for real and compare with the prediction.",
        discussion: """
            Opens tmux (on a private socket) with two panes: a fresh interactive shell (startup \
            files skipped unless --login) in a temporary directory, and sessiontop pinned to its \
            session with a lesson strip. Type the lessons' commands in the shell; H in \
            sessiontop's pane hangs the terminal up for real (or kills its leader, or types exit) \
            and shows the prediction next to what happened; N opens a new lab terminal. Every run \
            is logged to $XDG_STATE_HOME/sessiontop/lab.jsonl.
            """)

    @Option(help: "The lab terminal's shell: bash, zsh, fish or dash.")
    var shell: LabShell = .bash
    @Flag(help: "Run it as a login shell (its startup files are read).")
    var login = false
    @Option(help: ArgumentHelp("The tmux socket name (tmux -L); default sessiontop-lab-<pid>.", valueName: "name"))
    var socket: String?
    @Flag(help: "Start the lab without attaching to it; print the tmux socket name (for scripts).")
    var detached = false
    @Option(help: ArgumentHelp("Window size when --detached, columns.", valueName: "n"))
    var width = 120
    @Option(help: ArgumentHelp("Window size when --detached, rows.", valueName: "n"))
    var height = 40
    @Option(help: ArgumentHelp("Seconds between scans (0.5 to 10).", valueName: "seconds"))
    var delay: Double = 0.5
    @Flag(help: "No colours (also when NO_COLOR is set).")
    var noColor = false

    // Inside the tmux pane (started by the lab itself).
    @Flag(help: .hidden) var inside = false
    @Option(help: .hidden) var pane: String?
    @Option(help: .hidden) var dir: String?

    func run() throws {
        guard delay.isFinite, delay >= 0.5, delay <= 10 else { die("--delay must be between 0.5 and 10 seconds") }
        guard width >= 40, width <= 1000, height >= 12, height <= 1000 else { die("--width must be 40-1000 and --height 12-1000") }
        if inside { runInside(); return }
        guard let tmuxPath = Self.which("tmux") else { die("lab: tmux is not installed (apt-get install tmux)") }
        _ = tmuxPath
        guard Self.which(shell.rawValue) != nil else { die("lab: \(shell.rawValue) is not installed (apt-get install \(shell.rawValue))") }
        if !detached {
            guard isatty(0) == 1, isatty(1) == 1 else { die("lab: needs a terminal (or use --detached)") }
        }
        if let s = socket, s.isEmpty || s.contains("/") { die("lab: --socket is a name, not a path") }
        let name = socket ?? "sessiontop-lab-\(getpid())"
        var template = Array("/tmp/sessiontop-lab-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { die("lab: cannot create a temporary directory: \(Errno.current.message)") }
        let directory = String(cString: made)
        let me = Self.selfExecutable()
        var size = winsize()
        var w = width, h = height
        if !detached, ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 {
            w = Int(size.ws_col)
            h = Int(size.ws_row)
        }
        let t = ["tmux", "-L", name, "-f", "/dev/null"]
        let shellLine = Self.shellCommand(shell, login: login)
        var r = LabTmux.run(t + ["new-session", "-d", "-s", "lab", "-x", "\(w)", "-y", "\(h)", "-c", directory, shellLine])
        guard r.status == 0 else { Self.remove(directory); die("lab: tmux new-session failed: \(r.output)") }
        let labPane = LabTmux.run(t + ["display-message", "-p", "-t", "lab", "#{pane_id}"]).output
        LabTmux.run(t + ["set-option", "-t", "lab", "status", "off"])
        LabTmux.run(t + ["set-option", "-t", "lab", "mouse", "on"])
        LabTmux.run(t + ["set-option", "-p", "-t", labPane, "remain-on-exit", "on"])
        var inner = [me, "lab", "--inside", "--shell", shell.rawValue, "--pane", labPane, "--dir", directory,
                     "--delay", "\(delay)"]
        if login { inner.append("--login") }
        if noColor { inner.append("--no-color") }
        let innerLine = "exec env SWIFT_BACKTRACE=interactive=no " + inner.map(Self.quote).joined(separator: " ")
        r = LabTmux.run(t + ["split-window", w >= 160 ? "-h" : "-v", "-l", "60%", "-t", labPane, "-c", directory, innerLine])
        guard r.status == 0 else {
            LabTmux.run(t + ["kill-server"])
            Self.remove(directory)
            die("lab: tmux split-window failed: \(r.output)")
        }
        LabTmux.run(t + ["select-pane", "-t", labPane])
        if detached {
            print(name)
            return
        }
        var req = SpawnRequest(["tmux", "-L", name, "attach-session", "-t", "lab"])
        req.fileDescriptors = [(0, 0), (1, 1), (2, 2)]
        // From inside another tmux too: the lab's server is its own (tmux refuses to nest
        // while $TMUX is set).
        req.environment = Self.environment().filter { !$0.hasPrefix("TMUX=") && !$0.hasPrefix("TMUX_PANE=") }
        req.resetSignals = true
        if let pid = try? Spawner.spawn(req) {
            var status: Int32 = 0
            var rc: Int32
            repeat { rc = waitpid(pid, &status, 0) } while rc < 0 && errno == EINTR
        }
        LabTmux.run(t + ["kill-server"])
        Self.remove(directory)
    }

    /// In sessiontop's pane: the lab UI.
    func runInside() {
        guard let tmuxEnv = getenv("TMUX").map({ String(cString: $0) }),
              let socketPath = tmuxEnv.split(separator: ",").first.map(String.init) else {
            die("lab --inside runs in the lab's tmux pane only")
        }
        guard isatty(0) == 1, isatty(1) == 1 else { die("lab: needs a terminal") }
        let directory = dir ?? "/tmp"
        let own = getenv("TMUX_PANE").map { String(cString: $0) }
        let lab = LabOptions(socketPath: socketPath, pane: pane, ownPane: own, shell: shell, login: login,
                             directory: directory, shellCommand: Self.shellCommand(shell, login: login))
        var options = AppOptions()
        options.interval = delay
        let noColorEnv = getenv("NO_COLOR").map { String(cString: $0) } ?? ""
        options.color = !noColor && noColorEnv.isEmpty
        let code: Int32
        do { code = try LabApp.run(options, lab: lab) } catch { die(error.description) }
        // Quitting sessiontop ends the lab: the whole private server goes.
        LabTmux.run(["tmux", "-S", socketPath, "kill-server"])
        if code != 0 { Glibc.exit(code) }
    }

    /// The lab terminal's command line (tmux runs it with sh -c; exec keeps the shell the
    /// pane's process, so it leads the pane's session).
    static func shellCommand(_ shell: LabShell, login: Bool) -> String {
        let env = environment()
        func get(_ k: String) -> String? { env.last { $0.hasPrefix(k + "=") }.map { String($0.dropFirst(k.count + 1)) } }
        var vars = ["HOME=\(get("HOME") ?? "/tmp")", "PATH=\(get("PATH") ?? "/usr/local/bin:/usr/bin:/bin")",
                    "TERM=tmux-256color", "LANG=\(get("LANG") ?? "C.UTF-8")", "PS1=lab$ "]
        if let u = get("USER") { vars.append("USER=\(u)") }
        if let x = get("XDG_STATE_HOME") { vars.append("XDG_STATE_HOME=\(x)") }
        return "exec env -i " + (vars + shell.argv(login: login)).map(quote).joined(separator: " ")
    }

    static func environment() -> [String] {
        var out: [String] = []
        var p = environ
        while let s = p.pointee { out.append(String(cString: s)); p += 1 }
        return out
    }

    static func quote(_ s: String) -> String {
        if !s.isEmpty && s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=%:,@+".contains($0) }) { return s }
        return "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }

    static func which(_ name: String) -> String? {
        let path = environment().last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") where access("\(dir)/\(name)", X_OK) == 0 { return "\(dir)/\(name)" }
        return nil
    }

    static func selfExecutable() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        return n > 0 ? String(cString: buf) : CommandLine.arguments[0]
    }

    /// Removes the lab's own temporary directory (nothing else: the name is checked).
    static func remove(_ dir: String) {
        guard dir.hasPrefix("/tmp/sessiontop-lab-"), !dir.contains("..") else { return }
        LabTmux.run(["rm", "-rf", "--", dir])
    }
}
