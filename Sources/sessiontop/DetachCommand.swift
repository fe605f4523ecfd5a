import ArgumentParser
import SessionCore
#if canImport(Glibc)
import Glibc
#endif

extension DetachStdin: ExpressibleByArgument {}

struct DetachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detach",
        abstract: "Detach a running job in place: same pid, same state, it survives the hangup of its terminal.",
        discussion: """
            For every member of the process's group (--only-this: the process alone), through \
            ptrace: SIGHUP becomes ignored (a handler is kept unless --force-ignore), fds on the \
            terminal are re-pointed (stdout/stderr to the log, appended; stdin to /dev/null \
            unless --stdin keep), and with --new-group (default for a job that can move) the \
            job moves to a new process group. A stopped job is continued first. Afterwards the \
            hangup analysis is re-run: exit 0 only when every member survives a hangup and a \
            logout for certain. Without --yes the plan is shown and confirmed on the terminal.
            """)

    @Argument(help: "The process (its whole group unless --only-this).") var pid: Int32?
    @Option(help: ArgumentHelp("Detach this process group.", valueName: "G")) var pgid: Int32?
    @Option(help: ArgumentHelp("Log file for stdout and stderr (default: $XDG_STATE_HOME/sessiontop/<comm>-<pgid>.log).", valueName: "file")) var log: String?
    @Option(help: "stdin: null (default) or keep.") var stdin: DetachStdin = .null
    @Flag(inversion: .prefixedNo, help: "Move the job to a new process group (default: on when it can move).") var newGroup: Bool?
    @Flag(help: "Only this process, not its whole group.") var onlyThis = false
    @Flag(help: "Ignore SIGHUP even where the program installed a handler.") var forceIgnore = false
    @Flag(help: "Go ahead under a seccomp filter.") var force = false
    @Flag(help: "Do not ask for confirmation.") var yes = false
    @Flag(help: "Only show the plan.") var dryRun = false
    @Flag(help: "Print the plan (and the outcome) as JSON.") var json = false

    func validate() throws {
        if (pid == nil) == (pgid == nil) { throw ValidationError("give a PID or --pgid G (one of them)") }
        if let p = pid, p <= 0 { throw ValidationError("PID must be positive") }
        if let g = pgid, g <= 0 { throw ValidationError("--pgid must be positive") }
    }

    func run() throws {
        let reader = openReader("/proc")
        var options = DetachOptions()
        options.logPath = log
        options.stdin = stdin
        options.newGroup = newGroup
        options.onlyThis = onlyThis
        options.forceIgnore = forceIgnore
        options.forceSeccomp = force
        if let v = getenv("SESSIONTOP_DETACH_TEST_PAUSE_MS").flatMap({ Int32(String(cString: $0)) }) { options.testPauseMs = v }
        if let v = getenv("SESSIONTOP_DETACH_TEST_FAIL_AFTER").flatMap({ Int32(String(cString: $0)) }) { options.testFailAfter = v }
        let target: DetachTarget = pid.map { .process($0) } ?? .group(pgid!)
        let plan = fail { () throws(DetachRefusal) in try Detacher.plan(target, options: options, reader: reader) }
        if dryRun {
            writeOut(json ? plan.json() : Array((plan.preview.joined(separator: "\n") + "\n").utf8))
            return
        }
        if !yes {
            guard isatty(0) != 0 else { die("not a terminal to confirm on: add --yes (or --dry-run to see the plan)") }
            for l in plan.preview { warnRaw(l + "\n") }
            warnRaw("Proceed? [y/N] ")
            var c: UInt8 = 0
            guard read(0, &c, 1) == 1, c == UInt8(ascii: "y") || c == UInt8(ascii: "Y") else { die("not detached") }
        }
        let outcome = fail { () throws(DetachRefusal) in try Detacher.execute(plan, reader: reader) }
        if json {
            writeOut(outcome.json())
        } else {
            writeOut(Array((outcome.line + "\n").utf8))
            if outcome.failure != nil {
                for m in outcome.members { warn("  \(m.identity.pid): \(m.status.rawValue)\(m.failure.map { " — \($0)" } ?? "")") }
            }
        }
        if outcome.failure != nil { throw ExitCode(1) }
        if !outcome.done { throw ExitCode(2) }
    }

    private func warnRaw(_ s: String) {
        var b = Array(s.utf8)
        _ = b.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}
