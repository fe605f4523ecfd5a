/// The event whose consequences the analysis predicts.
public enum HangupEvent: String, CaseIterable, Sendable, Codable {
    /// The terminal goes away: the pty master is closed (SSH drops, window closed).
    case hangup
    /// The session leader (the shell) is killed while the terminal stays.
    case leaderExit = "leader-exit"
    /// The user types `exit` in the shell.
    case logout

    public var title: String {
        switch self {
        case .hangup: return "terminal hangs up"
        case .leaderExit: return "leader is killed"
        case .logout: return "user types exit"
        }
    }
}

/// What happens to a process.
public enum Fate: String, CaseIterable, Sendable, Codable {
    case dies
    /// No signal kills it, but it holds fds on the dead terminal: its next read gets EOF/EIO.
    case atRisk = "at-risk"
    case survives
    /// Another session, no fd on the terminal.
    case unaffected

    /// One letter for monochrome displays.
    public var mark: Character {
        switch self {
        case .dies: return "D"
        case .atRisk: return "R"
        case .survives: return "S"
        case .unaffected: return "."
        }
    }
}

/// Who kills a process that dies.
public enum Killer: String, CaseIterable, Sendable, Codable {
    /// SIGHUP from the tty layer (tty_jobctrl.c, kernel/exit.c disassociate_ctty).
    case kernel
    /// SIGHUP/SIGTERM the shell sends its jobs.
    case shell
    /// A stopped group orphaned by the leader's death gets SIGHUP+SIGCONT (kernel/exit.c).
    case orphanedGroup = "orphaned-group"
    /// It ignores the signal but exits on the EIO/EOF it gets from the dead terminal.
    case io
}

/// The prediction for one process under one event, with the reasons a student can follow.
public struct Verdict: Hashable, Sendable {
    public var fate: Fate
    public var by: Killer?
    /// False when the outcome turns on something /proc cannot show (disown, shell options,
    /// what a handler does, how the program reacts to EOF); `reasons` says which.
    public var certain: Bool
    public var reasons: [String]

    public init(fate: Fate, by: Killer? = nil, certain: Bool = true, reasons: [String]) {
        self.fate = fate
        self.by = by
        self.certain = certain
        self.reasons = reasons
    }
}
