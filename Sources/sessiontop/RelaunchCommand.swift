import ArgumentParser
import SessionCore
#if canImport(Glibc)
import Glibc
#endif

extension RelaunchVia: ExpressibleByArgument {}

struct RelaunchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relaunch",
        abstract: "Start a running process again, detached (same argv, cwd, environment, umask), then end the original: it restarts from scratch.",
        discussion: """
            --via daemonize (default): a daemon with stdin /dev/null and output appended to a log \
            under $XDG_STATE_HOME/sessiontop (or ~/.local/state/sessiontop). --via tmux: a new \
            detached tmux session to attach to later. --via systemd-run: a transient unit of the \
            user's systemd manager. The original gets SIGTERM, then SIGKILL after --timeout \
            seconds, unless --keep — but only once the copy has run for --grace seconds (1): a copy \
            that exits before makes relaunch fail with its exit status, and the original is left \
            untouched. Interactive shells and session leaders with jobs are refused unless --force \
            (a copy would have no terminal; ending them ends their jobs). Relaunch restarts from \
            scratch: to keep a running job instead (same pid, same state), use `sessiontop detach`. \
            Without --yes the plan is shown and confirmed on the terminal.
            """)

    @Argument(help: "The process to relaunch.") var pid: Int32
    @Flag(help: "Leave the original running.") var keep = false
    @Option(help: ArgumentHelp("Log file for --via daemonize.", valueName: "file")) var log: String?
    @Option(help: "daemonize, tmux or systemd-run.") var via: RelaunchVia = .daemonize
    @Option(help: "Seconds between SIGTERM and SIGKILL.") var timeout: Double = 5
    @Option(help: ArgumentHelp("tmux server socket name (tmux -L).", valueName: "name")) var tmuxSocket: String?
    @Option(help: ArgumentHelp("tmux session or systemd unit name.", valueName: "name")) var name: String?
    @Option(help: ArgumentHelp("Seconds the copy must keep running before the original is ended.", valueName: "seconds")) var grace: Double = 1
    @Flag(help: "Relaunch an interactive shell or a session leader with jobs anyway.") var force = false
    @Flag(help: "Do not ask for confirmation.") var yes = false
    @Flag(help: "Only show the plan.") var dryRun = false
    @Flag(help: "Print the plan (and the outcome) as JSON.") var json = false

    func run() throws {
        let reader = openReader("/proc")
        var options = RelaunchOptions()
        options.via = via
        options.keep = keep
        // The log is opened by this process, so a relative path is the caller's: say it whole.
        options.logPath = log.map(absolutePath)
        options.termTimeout = timeout
        options.tmuxSocket = tmuxSocket
        options.name = name
        guard grace >= 0, grace <= 600 else { die("--grace must be between 0 and 600 seconds", code: 64) }
        options.grace = grace
        options.force = force
        let plan = fail { () throws(RelaunchRefusal) in try Relauncher.plan(pid: pid, options: options, reader: reader) }
        if dryRun {
            writeOut(json ? plan.json() : Array((plan.preview.joined(separator: "\n") + "\n").utf8))
            return
        }
        if !yes {
            guard isatty(0) != 0 else { die("not a terminal to confirm on: add --yes (or --dry-run to see the plan)") }
            warnLines(plan.preview)
            warnRaw("Proceed? [y/N] ")
            var c: UInt8 = 0
            guard read(0, &c, 1) == 1, c == UInt8(ascii: "y") || c == UInt8(ascii: "Y") else { die("not relaunched") }
            // The answer may come much later: what was confirmed must still be what runs.
            recheck(plan, options: options, reader: reader)
        }
        let outcome: RelaunchOutcome
        do { outcome = try Relauncher.execute(plan) } catch {
            // The copy died within the grace period: its status is ours; the original is kept.
            die(error.description, code: error.copyExitCode.flatMap { $0 == 0 ? nil : $0 } ?? 1)
        }
        if json {
            var w = JSONWriter(capacity: 1024)
            w.object { w in
                w.key("old_pid"); w.int(plan.original.pid)
                w.key("new_pid"); if let p = outcome.newPid { w.int(p) } else { w.null() }
                w.key("via"); w.string(plan.via.rawValue)
                w.key("log"); if let l = plan.logPath { w.string(l) } else { w.null() }
                w.key("original_gone"); w.bool(outcome.originalGone)
                w.key("tmux_socket"); if let s = outcome.started?.tmuxSocket { w.string(s) } else { w.null() }
                w.key("attach"); if let a = outcome.started?.attachCommand { w.string(a) } else { w.null() }
                w.key("signals"); w.array { w in for r in outcome.ended { w.string(r.summary) } }
                w.key("warnings"); w.array { w in for x in plan.warnings { w.string(x) } }
            }
            writeOut(w.bytes + [0x0a])
        } else {
            var line = "relaunched \(plan.original.pid) as " + (outcome.newPid.map { "pid \($0)" } ?? plan.name)
            if let l = plan.logPath { line += "; log: \(l)" }
            if plan.via == .tmux {
                line += "; tmux session \(plan.name)"
                if let s = outcome.started?.tmuxSocket { line += " on the server at \(s)" }
                line += "; attach with: " + (outcome.started?.attachCommand ?? "tmux attach -t \(plan.name)")
            }
            writeOut(Array((line + "\n").utf8))
            for w in plan.warnings { warn("warning: \(w)") }
        }
        if plan.endOriginal && !outcome.originalGone {
            for r in outcome.ended { for m in r.members where !m.outcome.isSent { warn(m.line(signal: r.signal)) } }
            die("the original (pid \(plan.original.pid)) is still running")
        }
    }

    /// Plans again after the prompt: the original gone, its pid recycled, or its command
    /// line, program, directory, environment or umask changed (an exec) stops here.
    private func recheck(_ plan: RelaunchPlan, options: RelaunchOptions, reader: SnapshotReader) {
        let pid = plan.original.pid
        let fresh: RelaunchPlan
        do {
            fresh = try Relauncher.plan(pid: pid, options: options, reader: reader)
        } catch {
            switch error {
            case .noSuchProcess, .zombie: die("pid \(pid) has exited while waiting for the answer: nothing started")
            default: die("pid \(pid) changed while waiting for the answer (\(error.description)): nothing started")
            }
        }
        if fresh.original != plan.original {
            die("pid \(pid) now names another process (its start time changed): nothing started")
        }
        if fresh.arguments != plan.arguments || fresh.executable != plan.executable {
            die("pid \(pid) changed while waiting for the answer (its command line is now: \(RelaunchPlan.quote(fresh.arguments))): nothing started")
        }
        if fresh.directory != plan.directory || fresh.environment != plan.environment || fresh.umask != plan.umask || fresh.user != plan.user {
            die("pid \(pid) changed while waiting for the answer (its directory, environment, umask or user): nothing started")
        }
    }

    private func warnLines(_ lines: [String]) { for l in lines { warnRaw(l + "\n") } }
    private func warnRaw(_ s: String) {
        var b = Array(s.utf8)
        _ = b.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}
