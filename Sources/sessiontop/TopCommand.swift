import ArgumentParser
import SessionCore
import SessionUI
#if canImport(Glibc)
import Glibc
#endif

/// `sessiontop` with no subcommand (or `sessiontop top`): the live inspector.
struct TopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "Open the live inspector (the default when no subcommand is given).")

    @Option(name: [.customShort("d"), .long], help: ArgumentHelp("Seconds between refreshes (0.5 to 10).", valueName: "seconds"))
    var delay: Double = 1.5
    @Option(help: ArgumentHelp("Read this /proc tree instead of /proc.", valueName: "dir"))
    var procRoot = "/proc"
    @Option(help: ArgumentHelp("Read systemd-logind's configuration and state under this root instead of /.", valueName: "dir"))
    var configRoot = "/"
    @Option(help: ArgumentHelp("Show only this session (it follows the terminal when the session is replaced).", valueName: "sid"))
    var sid: Int32?
    @Flag(help: "No colours (also when NO_COLOR is set): fates are shown by their letters and bold/underline.")
    var noColor = false
    @Option(name: [.customShort("p"), .customLong("pid")], help: ArgumentHelp("Show only these processes (comma-separated pids).", valueName: "pid,…"))
    var pids: String?
    @Option(name: [.customShort("u"), .customLong("user")], help: ArgumentHelp("Show only this user's processes (name or uid).", valueName: "user"))
    var user: String?
    @Flag(help: "No signal or detach keys: look, don't touch.") var readonly = false

    func run() throws {
        guard delay.isFinite, delay >= 0.5, delay <= 10 else { die("--delay must be between 0.5 and 10 seconds") }
        var options = AppOptions()
        if let pids {
            var set = Set<Int32>()
            for part in pids.split(separator: ",", omittingEmptySubsequences: false) {
                guard let n = Int32(part.trimmingCharacters(in: " ")), n > 0 else { die("bad pid in -p: '\(part)' (comma-separated pids, e.g. -p 1200,1300)", code: 64) }
                set.insert(n)
            }
            options.onlyPids = set
        }
        if let user {
            if let pw = getpwnam(user) { options.onlyUID = pw.pointee.pw_uid }
            else if let uid = UInt32(user), getpwuid(uid) != nil { options.onlyUID = uid }
            else { die(UInt32(user) != nil ? "no such user: uid \(user)" : "no user named \(user)", code: 64) }
        }
        if let sid { guard sid > 0 else { die("bad session id: \(sid)", code: 64) }; options.pinnedSid = sid }
        options.readonly = readonly
        options.intervalGiven = CommandLine.arguments.contains { $0 == "-d" || $0 == "--delay" || $0.hasPrefix("--delay=") }
        guard isatty(1) == 1 else {
            die("standard output is not a terminal; for a one-shot text or JSON view use `sessiontop snapshot`")
        }
        guard isatty(0) == 1 else { die("standard input is not a terminal; use `sessiontop snapshot` instead") }
        options.procRoot = procRoot
        options.configRoot = configRoot
        options.interval = delay
        let noColorEnv = getenv("NO_COLOR").map { String(cString: $0) } ?? ""
        options.color = !noColor && noColorEnv.isEmpty
        options.firstFrameFile = getenv("SESSIONTOP_FIRST_FRAME_FILE").map { String(cString: $0) }
        options.keyDrawnFile = getenv("SESSIONTOP_KEY_DRAWN_FILE").map { String(cString: $0) }
        options.timingFile = getenv("SESSIONTOP_TIMING_FILE").map { String(cString: $0) }
        let code: Int32
        do { code = try App.run(options) } catch { die(error.description) }
        if code != 0 { Glibc.exit(code) }
    }
}
