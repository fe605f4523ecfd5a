import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

// Parse, run, and turn every error into one line on stderr (help and --version print as usual).
do {
    var command = try SessionTop.parseAsRoot(SignalCommand.joinDashedSignal(Array(CommandLine.arguments.dropFirst())))
    try command.run()
} catch let exit as ExitCode {
    // A subcommand that already said what went wrong.
    Glibc.exit(exit.rawValue)
} catch {
    let code = SessionTop.exitCode(for: error)
    if code == .success { SessionTop.exit(withError: error) }
    let message = SessionTop.message(for: error)
    let first = message.split(separator: "\n").first.map(String.init) ?? "\(error)"
    die(first + " (see `sessiontop help`)", code: code.rawValue)
}
