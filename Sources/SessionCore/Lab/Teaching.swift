/// What the help used to leave out, in plain words (issue 12 §4): a one-line summary of each
/// fate, shown before the rule chain (detail pane, `hangup`), and the sentences on `disown`,
/// `disown -h` and orphaned groups. The rules behind them: ../shared/hangup-semantics.md.
public enum Teaching {
    /// One plain line: what happens to it and, in a few words, why.
    public static func summary(_ v: Verdict, event: HangupEvent) -> String {
        let maybe = v.certain ? "" : " (probably: see the last reason)"
        switch v.fate {
        case .dies:
            switch v.by {
            case .kernel?:
                return event == .leaderExit
                    ? "It dies: when the session's leader dies the kernel sends SIGHUP to the terminal's foreground group\(maybe)."
                    : "It dies: the kernel sends it SIGHUP when the terminal goes away\(maybe)."
            case .shell?: return "It dies: the shell sends SIGHUP to the jobs it still remembers as it goes\(maybe)."
            case .orphanedGroup?: return "It dies: it is stopped in a group no shell manages any more, so the kernel sends it SIGHUP and SIGCONT\(maybe)."
            case .logind?: return "It dies: logind ends every process of the session when you log out\(maybe)."
            case .io?, nil: return "It dies\(maybe)."
            }
        case .atRisk: return "It may die: no signal kills it, but it uses the terminal or handles SIGHUP: up to the program."
        case .survives: return "It survives: nothing the event sends can kill it\(maybe)."
        case .unaffected: return "Not touched: the event does not reach it."
        case .exited: return "Already exited: only its parent's wait is left."
        }
    }

    /// "Orphaned", with its consequence (kernel/exit.c will_become_orphaned_pgrp, kill_orphaned_pgrp).
    public static let orphaned = "no process in this group has a parent in another group of the session, so no shell manages it any more: if it is stopped, the kernel will send it SIGHUP and SIGCONT."

    /// bash jobs.c delete_job; zsh bin_disown; fish builtin_disown.
    public static let disown = "the shell forgets the job: it will not send it SIGHUP when the terminal hangs up or you exit, and jobs/fg no longer know it. The kernel still signals it if it is the terminal's foreground group, or a stopped orphaned group."

    /// bash jobs.c nohup_job (J_NOHUP), skipped by hangup_all_jobs.
    public static let disownH = "(bash) the job stays in the table — jobs, fg and wait still work — but is marked so the shell's hangup skips it. zsh has no -h: setopt NO_HUP stops it signalling any job."
}
