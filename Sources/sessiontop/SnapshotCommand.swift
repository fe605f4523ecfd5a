import ArgumentParser
import SessionCore
#if canImport(Glibc)
import Glibc
#endif

struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Print sessions → process groups → processes, as a tree or as JSON.")

    @Flag(help: "Print the whole model as JSON.") var json = false
    @OptionGroup var scope: ScopeOptions
    @Option(help: "Only processes of this user (name or uid).") var user: String?
    @Flag(help: "Also read fdinfo (open flags, offset) for every fd.") var fdinfo = false
    @Option(help: ArgumentHelp("Read this /proc tree instead of /proc.", valueName: "dir"))
    var procRoot = "/proc"
    @Option(help: ArgumentHelp("Read systemd-logind's configuration and state under this root instead of /.", valueName: "dir"))
    var configRoot = "/"

    func run() throws {
        let reader = openReader(procRoot)
        reader.configRoot = configRoot
        var options = ScanOptions()
        if fdinfo { options.fdInfoForAll = true }
        if let pid = scope.pid { options.fdInfoFor = [pid] }
        let snap = reader.snapshot(options: options)
        let filter = SnapshotFilter(pid: scope.pid, sid: scope.sid, tty: scope.tty, user: user)
        let sessions = fail { () throws(SnapshotFilter.Failure) in try filter.apply(to: snap) }
        if json {
            let verdicts = HangupAnalysis.ownSessionVerdicts(snap, sessions: sessions)
            writeOut(SnapshotJSON.render(snap, sessions: sessions, verdicts: verdicts))
        } else {
            writeOut(Array(SnapshotText.render(snap, sessions: sessions, width: outputWidth()).utf8))
        }
    }
}

/// `--pid / --sid / --tty`: which session(s) a command is about.
struct ScopeOptions: ParsableArguments {
    @Option(help: "The session of this process.") var pid: Int32?
    @Option(help: "This session id.") var sid: Int32?
    @Option(help: ArgumentHelp("The session whose controlling terminal this is (pts/3).", valueName: "name"))
    var tty: String?

    /// One scope at a time: `--pid 1 --sid 2` is a mistake, not a preference.
    func validate() throws {
        let given = [pid != nil ? "--pid" : nil, sid != nil ? "--sid" : nil, tty != nil ? "--tty" : nil].compactMap { $0 }
        if given.count > 1 { throw ValidationError("\(given.joined(separator: " and ")) conflict: give at most one of --pid, --sid, --tty") }
    }
}
