import ArgumentParser
import SessionCore
#if canImport(Glibc)
import Glibc
#endif

struct DaemonizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemonize",
        abstract: "Run a command as a daemon (daemonize(1), done right); print its pid.",
        discussion: """
            fork, setsid, fork again (never a session leader, so it cannot acquire a terminal), \
            chdir, umask, stdin from /dev/null, stdout/stderr to files or /dev/null, every other \
            fd closed (the lock stays on fd 3), exec. An exec failure is reported and exits non-zero.
            """)

    @Option(name: .customShort("c"), help: ArgumentHelp("Working directory.", valueName: "dir"))
    var directory = "/"
    @Option(name: .customShort("p"), help: ArgumentHelp("Write the daemon's pid here (never follows a symlink).", valueName: "pidfile"))
    var pidFile: String?
    @Option(name: .customShort("l"), help: ArgumentHelp("Hold an exclusive flock on this file while the daemon runs; a second start fails.", valueName: "lockfile"))
    var lockFile: String?
    @Option(name: .customShort("u"), help: ArgumentHelp("Run as this user (root only): its groups, HOME, USER, LOGNAME.", valueName: "user"))
    var user: String?
    @Option(name: .customShort("o"), help: ArgumentHelp("stdout to this file (default /dev/null).", valueName: "file"))
    var stdoutPath: String?
    @Option(name: .customShort("e"), help: ArgumentHelp("stderr to this file (default /dev/null).", valueName: "file"))
    var stderrPath: String?
    @Flag(name: .customShort("a"), help: "Append to the -o/-e files instead of truncating.")
    var append = false
    @Option(name: .customShort("E"), help: ArgumentHelp("Set NAME=VALUE in the environment (repeatable).", valueName: "NAME=VALUE"))
    var env: [String] = []
    @Option(name: .customShort("m"), help: ArgumentHelp("umask, octal (daemon(7): 0).", valueName: "umask"))
    var umask = "0"
    @Flag(name: .customShort("v"), help: "Say what is done, on stderr.") var verbose = false
    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("-- COMMAND [ARGS…]", valueName: "command"))
    var command: [String] = []

    func run() throws {
        var cmd = command
        // Passthrough capture also swallows --help when it comes first.
        if cmd.first == "--help" || cmd.first == "-h" { throw CleanExit.helpRequest(self) }
        if cmd.first == "--" { cmd.removeFirst() }
        guard let mask = UInt32(umask, radix: 8), mask <= 0o777 else { die("bad umask: \(umask) (octal, e.g. 022)") }
        var o = DaemonizeOptions(command: cmd)
        o.directory = directory
        o.pidFile = pidFile
        o.lockFile = lockFile
        o.user = user
        o.stdoutPath = stdoutPath
        o.stderrPath = stderrPath
        o.append = append
        o.extraEnvironment = env
        o.umask = mask
        let verbose = self.verbose
        do {
            let r = try Daemonizer.start(o, log: { if verbose { warn($0) } })
            writeOut(Array("\(r.pid)\n".utf8))
        } catch {
            if case .spawn(let e) = error, e.stage == .exec { die(error.description, code: 127) }
            die(error.description)
        }
    }
}
