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

    func run() throws {
        guard delay.isFinite, delay >= 0.5, delay <= 10 else { die("--delay must be between 0.5 and 10 seconds") }
        guard isatty(1) == 1 else {
            die("standard output is not a terminal; for a one-shot text or JSON view use `sessiontop snapshot`")
        }
        guard isatty(0) == 1 else { die("standard input is not a terminal; use `sessiontop snapshot` instead") }
        var options = AppOptions()
        options.procRoot = procRoot
        options.configRoot = configRoot
        options.interval = delay
        if let sid {
            guard sid > 0 else { die("--sid must be a positive session id") }
            options.pinnedSid = sid
        }
        let noColorEnv = getenv("NO_COLOR").map { String(cString: $0) } ?? ""
        options.color = !noColor && noColorEnv.isEmpty
        options.firstFrameFile = getenv("SESSIONTOP_FIRST_FRAME_FILE").map { String(cString: $0) }
        let code: Int32
        do { code = try App.run(options) } catch { die(error.description) }
        if code != 0 { Glibc.exit(code) }
    }
}
