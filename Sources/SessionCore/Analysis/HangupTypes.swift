/// The event whose consequences the analysis predicts.
public enum HangupEvent: String, CaseIterable, Sendable, Codable {
    /// The terminal goes away: the pty master is closed (SSH drops, window closed).
    case hangup
    /// The session leader (the shell) is killed while the terminal stays.
    case leaderExit = "leader-exit"
    /// The user types `exit` in the shell (again if it refuses), the shell exits, and then the
    /// terminal goes away (sshd closes the pty, the window closes).
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
    /// No signal's default action kills it, but the event reaches it in a way whose outcome is
    /// up to the program: it holds or uses the dead terminal (its next read gets EOF, its next
    /// write EIO), or its SIGHUP handler runs. A verdict, certain when the signals are known.
    case atRisk = "at-risk"
    case survives
    /// Another session, no fd on the terminal.
    case unaffected
    /// Already dead (a zombie, state Z): nothing can happen to it; only its parent's wait is left.
    case exited

    /// One letter for monochrome displays.
    public var mark: Character {
        switch self {
        case .dies: return "D"
        case .atRisk: return "R"
        case .survives: return "S"
        case .unaffected: return "."
        case .exited: return "Z"
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
    /// It ignores the signal but exits on the EIO/EOF it gets from the dead terminal. Kept for
    /// the JSON's sake: how a program reacts to EOF/EIO is its own choice, so the analysis now
    /// reports such processes `at-risk`.
    case io
    /// systemd-logind stops the session's scope (`KillUserProcesses=yes`) or the user's manager
    /// (last session, no linger) at logout: SIGTERM, then SIGKILL.
    case logind
}

/// The prediction for one process under one event, with the reasons a student can follow.
public struct Verdict: Hashable, Sendable {
    public var fate: Fate
    public var by: Killer?
    /// False only when the outcome turns on something neither /proc nor the shell's memory
    /// shows (disown in fish, a race inside bash, unreadable fds, logind's compiled-in default);
    /// the last reason, `uncertain: …`, names it. `at-risk` is certain when the signals that
    /// reach the process are known.
    public var certain: Bool
    public var reasons: [String]

    public init(fate: Fate, by: Killer? = nil, certain: Bool = true, reasons: [String]) {
        self.fate = fate
        self.by = by
        self.certain = certain
        self.reasons = reasons
    }
}
