import ArgumentParser
import SessionCore

/// `sessiontop hangup`: who dies if the terminal hangs up, the leader is killed, or the user
/// logs out — grouped by fate, each with the reasons (HangupAnalysis).
struct HangupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hangup",
        abstract: "Predict who dies when a session's terminal hangs up, its leader is killed, or the user logs out.",
        discussion: """
            Default scope: the session of sessiontop's own controlling terminal, or every session \
            with a terminal when it has none. Fates: dies (by kernel, shell, orphaned-group or io), \
            at-risk (no signal kills it, but it holds the dead terminal or handles the signal: what it \
            does then is up to the program), survives, unaffected, exited (a zombie). logout is `exit` \
            typed (again if refused), then the terminal goes away. Uncertain verdicts are marked and \
            say what neither /proc nor the shell's memory shows.
            """)

    @Option(help: ArgumentHelp("hangup (the terminal goes away), leader-exit (the shell is killed), logout (the user types exit).",
                               valueName: "event"))
    var event: String = "hangup"
    @OptionGroup var scope: ScopeOptions
    @Flag(help: "Machine-readable output.") var json = false
    @Option(help: ArgumentHelp("Read this /proc tree instead of /proc.", valueName: "dir"))
    var procRoot = "/proc"
    @Option(help: ArgumentHelp("Read systemd-logind's configuration and state under this root instead of /.", valueName: "dir"))
    var configRoot = "/"

    func run() throws {
        guard let ev = HangupEvent(rawValue: event) else {
            die("unknown event '\(event)': use hangup, leader-exit or logout", code: 64)
        }
        let given = [scope.pid != nil, scope.sid != nil, scope.tty != nil].filter { $0 }.count
        if given > 1 { die("give at most one of --pid, --sid, --tty") }
        let reader = openReader(procRoot)
        reader.configRoot = configRoot
        let snap = reader.snapshot()
        // Every terminal's verdicts, once: `--pid`, `--sid` and `--tty` all read these.
        let all = HangupVerdicts(snap, events: [ev])
        var sessions: [Session]
        if given == 1 {
            let filter = SnapshotFilter(pid: scope.pid, sid: scope.sid, tty: scope.tty)
            sessions = fail { () throws(SnapshotFilter.Failure) in try filter.apply(to: snap) }
            // A process whose session has no terminal (`setsid cmd` keeping fds on one): the
            // terminal it holds is the one whose hangup concerns it.
            if let pid = scope.pid, sessions.allSatisfy({ $0.ttyDevice == 0 }),
               let t = all.terminalOf[pid], let s = snap.session(t) {
                sessions = [s]
            }
        } else if let own = snap.selfSession, own.ttyDevice != 0 {
            sessions = [own]
        } else {
            sessions = snap.sessions.filter { $0.ttyDevice != 0 }
        }
        let analysed = sessions.map { s in (s, s.ttyDevice == 0 ? HangupAnalysis.analyze(snap, session: s.sid, event: ev) : all.terminal(s.sid, ev)) }
        if json {
            writeOut(HangupReport.json(snap, sessions: analysed, event: ev))
        } else {
            var text = ""
            for (s, v) in analysed { text += HangupReport.text(snap, session: s, event: ev, verdicts: v, width: outputWidth()) }
            if analysed.isEmpty { text = "no session with a terminal\n" }
            writeOut(Array(text.utf8))
        }
    }
}
