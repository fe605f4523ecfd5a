import ArgumentParser
import SessionCore
#if canImport(Glibc)
import Glibc
#endif

struct SignalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signal",
        abstract: "Send a signal to a process, its group or its session, never to a recycled pid.",
        discussion: """
            The process is pinned by pid and start time (/proc/<pid>/stat field 22): a pidfd is \
            opened, the start time re-checked, then pidfd_send_signal(2). Groups and sessions are \
            re-resolved when sending, each member checked the same way. Pid 1, kernel threads and \
            sessiontop itself are refused unless --force.
            """)

    @Option(name: [.customShort("s"), .customLong("signal")],
            help: ArgumentHelp("Signal name or number: TERM, SIGHUP, 9, RTMIN+2.", valueName: "sig"))
    var signal: String = "TERM"
    @Option(help: "A process.") var pid: Int32?
    @Option(help: "Every process of this process group.") var pgid: Int32?
    @Option(help: "Every process of this session.") var sid: Int32?
    @Option(help: ArgumentHelp("With --pid: the start time (/proc/<pid>/stat field 22) it must have.",
                               valueName: "ticks"))
    var startTime: UInt64?
    @Flag(help: "Allow pid 1, kernel threads and sessiontop itself.") var force = false
    @Flag(help: "Print the per-process report as JSON.") var json = false

    /// `signal -s -9` as kill(1) takes it: the parser would read `-9` as an option, so a
    /// dashed signal after `-s`/`--signal` is joined to it (`--signal=-9`) before parsing.
    static func joinDashedSignal(_ args: [String]) -> [String] {
        guard args.first == "signal" else { return args }
        var out: [String] = []
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--" { out += args[i...]; break }
            if (a == "-s" || a == "--signal"), i + 1 < args.count, args[i + 1].count > 1, args[i + 1].hasPrefix("-"),
               Signals.number(named: args[i + 1]) != nil {
                out.append("--signal=" + args[i + 1])
                i += 2
                continue
            }
            out.append(a)
            i += 1
        }
        return out
    }

    func run() throws {
        guard let sig = Signals.number(named: signal) else { die("unknown signal: \(signal)", code: 64) }
        let chosen = [pid != nil, pgid != nil, sid != nil].filter { $0 }.count
        if chosen != 1 { die("give exactly one of --pid, --pgid, --sid", code: 64) }
        if startTime != nil && pid == nil { die("--start-time goes with --pid") }
        let sender = fail { () throws(ProcReader.OpenError) in try SignalSender() }
        let target: SignalTarget
        if let pid {
            if pid <= 0 { die("bad pid: \(pid)") }
            if let t = startTime {
                target = .process(ProcessIdentity(pid: pid, startTime: t))
            } else {
                guard let id = sender.identity(of: pid) else { die("pid \(pid): no such process") }
                target = .process(id)
            }
        } else if let pgid {
            target = .group(pgid)
        } else {
            target = .session(sid!)
        }
        let report = sender.send(sig, to: target, force: force)
        if json {
            writeOut(report.json())
        } else {
            var out = ""
            for m in report.members where m.outcome.isSent { out += m.line(signal: sig) + "\n" }
            if !out.isEmpty { writeOut(Array(out.utf8)) }
        }
        if let r = report.refusal { die(r.description) }
        var failed = false
        for m in report.members where !m.outcome.isSent {
            // A member that left the group or session meanwhile is said, not a failure.
            if !m.outcome.isSkipped { failed = true }
            if !json { warn(m.line(signal: sig)) }
        }
        if failed { throw ExitCode(1) }
    }
}

/// One `sessiontop: …` line on stderr, without exiting (control characters escaped, as `die`).
func warn(_ message: String) {
    var bytes = Array("sessiontop: \(SafeText.display(Array(message.utf8)))\n".utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}
