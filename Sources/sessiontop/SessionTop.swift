import ArgumentParser
import SessionCore
import SessionUI
#if canImport(Glibc)
import Glibc
#endif

struct SessionTop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessiontop",
        abstract: "See sessions, process groups and controlling terminals, and act on them.",
        discussion: """
            With no subcommand, opens the live inspector (press ? inside for help). \
            Shell completions: sessiontop --generate-completion-script bash|zsh|fish \
            (scripts/install writes them where each shell looks).
            """,
        version: SessiontopVersion.number,
        subcommands: [TopCommand.self, SnapshotCommand.self, HangupCommand.self, SignalCommand.self,
                      DaemonizeCommand.self, RelaunchCommand.self, DetachCommand.self, LabCommand.self],
        defaultSubcommand: TopCommand.self)
}

