import ArgumentParser
import SessionCore

struct SessionTop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessiontop",
        abstract: "See sessions, process groups and controlling terminals, and act on them.",
        subcommands: [SnapshotCommand.self, HangupCommand.self, SignalCommand.self,
                      DaemonizeCommand.self, RelaunchCommand.self])
}
