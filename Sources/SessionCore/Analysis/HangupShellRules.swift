/// The shells' part: what the leader sends its jobs when it exits on SIGHUP or on `exit`
/// (../shared/hangup-semantics.md, "The shells"). Nothing here for `leader-exit`: a shell
/// killed by SIGKILL sends nothing.
///
/// For bash and zsh the job table comes from the shell's own memory when it could be read and
/// matched the snapshot (ShellMemory): which jobs are still in the table (`disown` removes
/// one), bash's `disown -h` mark and `huponexit`, zsh's HUP option, and the state the shell
/// believes each job is in. Otherwise, and always for fish (C++, no exported globals), the
/// rules below guess from /proc and say what they cannot see.
extension Context {
    func shellHits(_ p: ProcessInfo) -> [Hit] {
        guard let l = leader, let s = shell, jobs.contains(p.pgid), event != .leaderExit else { return [] }
        let g = snapshot.group(p.pgid)
        let stopped = g?.hasStopped ?? false
        let job = "group \(p.pgid) is one of its jobs (a member's parent is the leader \(l.pid))"
        if s.kind == .other {
            return [Hit(signal: Signals.hup, cont: false, by: .shell, certain: false, maybe: true,
                        rule: "the leader \(s.name) is not a shell whose rules sessiontop knows; \(job)",
                        doubt: "what it sends its children when it exits is unknown")]
        }
        guard s.interactive else {
            return [note("a non-interactive \(s.name) forwards nothing to its children (\(s.evidence))")]
        }
        if event == .hangup && !l.signals.caught.contains(Signals.hup) && s.kind != .dash {
            return [note("the leader \(s.name) does not catch SIGHUP (SigCgt lacks HUP), so it runs no hangup code for its jobs")]
        }
        if let v = view {
            if event == .hangup && v.hupTrapped {
                return [Hit(signal: Signals.hup, cont: false, by: .shell, certain: false, maybe: true,
                            rule: "the leader runs its own `trap … HUP` instead of hanging up its jobs (read from its memory)",
                            doubt: "what the leader's HUP trap does is up to the trap")]
            }
            switch v.shell {
            case .bash: return bashHits(v, p, procStopped: stopped)
            case .zsh: return zshHits(v, p, procStopped: stopped)
            }
        }
        let unread = memoryNote.map { [note("\(s.name)'s memory is not used: \($0)")] } ?? []
        switch s.kind {
        case .bash: return unread + bashRuleHits(s, stopped: stopped, job: job)
        case .zsh: return unread + zshRuleHits(stopped: stopped, job: job)
        case .fish: return fishHits(stopped: stopped, job: job)
        case .dash: return [note("dash sends its jobs nothing: it leaves SIGHUP at its default and just dies (\(job))")]
        case .other: return []
        }
    }

    func note(_ text: String) -> Hit {
        Hit(signal: 0, cont: false, by: .shell, certain: true, rule: text)
    }

    // MARK: bash, from its memory

    /// bash sig.c termsig_handler → jobs.c hangup_all_jobs (SIGHUP, plus SIGCONT to jobs its
    /// table shows stopped, skipping J_NOHUP), then end_job_control → terminate_stopped_jobs
    /// (SIGTERM+SIGCONT to jobs its table still shows stopped, when job_control is on);
    /// shell.c exit_shell: hangup_all_jobs only for an interactive login shell with
    /// `hup_on_exit`, then end_job_control.
    func bashHits(_ v: ShellView, _ p: ProcessInfo, procStopped: Bool) -> [Hit] {
        guard let j = v.job(group: p.pgid), j.state != .done else {
            return [note("bash's job table (read from its memory) has no job for group \(p.pgid): it was disowned, or moved out of its job's group, so bash sends it nothing")]
        }
        let name = "job %\(j.number) (group \(p.pgid))"
        let tableStopped = j.state == .stopped
        // bash's idea of the job against /proc: when they differ bash has not yet seen a stop
        // or continue, and what it sends depends on when it does.
        let lag: String? = tableStopped != procStopped && j.state != .mixed
            ? "race: bash's table shows \(name) \(j.state.rawValue) but /proc shows it \(procStopped ? "stopped" : "running"): what bash sends depends on when it notices"
            : nil
        var hits: [Hit] = []
        let hupsJobs: Bool
        switch event {
        case .hangup:
            hupsJobs = true
        default:
            hupsJobs = v.interactive && v.login && v.hupOnExit == true
            if hupsJobs {
                hits.append(note("bash's memory shows huponexit on and a login shell: on `exit` it hangs up its jobs like on SIGHUP (shell.c exit_shell → jobs.c hangup_all_jobs)"))
            } else {
                let why = v.login ? "huponexit is off" : (v.hupOnExit == true ? "huponexit is on, but it is not a login shell" : "it is not a login shell and huponexit is off")
                hits.append(note("bash sends its running jobs nothing on `exit`: \(why) (read from its memory; shell.c exit_shell)"))
            }
        }
        var continued = false
        if hupsJobs {
            if j.noHup {
                hits.append(note("bash's job table marks \(name) no-HUP (`disown -h`, J_NOHUP): hangup_all_jobs skips it"))
            } else {
                continued = tableStopped
                hits.append(Hit(signal: Signals.hup, cont: tableStopped, by: .shell, certain: lag == nil,
                                rule: "bash sends SIGHUP\(tableStopped ? "+SIGCONT" : "") to \(name), which its job table (read from its memory) shows \(j.state.rawValue) (jobs.c hangup_all_jobs)",
                                doubt: lag))
            }
        }
        if v.jobControl && (tableStopped || lag != nil) {
            let doubt: String?
            if let lag { doubt = lag }
            else if continued { doubt = "race: bash has just continued \(name) itself; whether its table still shows it stopped when terminate_stopped_jobs runs depends on when bash notices" }
            else { doubt = nil }
            hits.append(Hit(signal: Signals.term, cont: true, by: .shell, certain: doubt == nil,
                            rule: "then bash sends SIGTERM+SIGCONT to every job its table shows stopped (jobs.c end_job_control → terminate_stopped_jobs)" + (continued ? "" : "; nothing has continued \(name), so it is still stopped"),
                            doubt: doubt))
        }
        return hits
    }

    // MARK: zsh, from its memory

    /// zsh Src/signals.c killrunjobs (from zexit on SIGHUP and on `exit`): only with MONITOR
    /// and HUP set; SIGHUP, no SIGCONT, to every job its table shows locked, printable and not
    /// stopped, except its own group (and, on `exit`, the current job).
    func zshHits(_ v: ShellView, _ p: ProcessInfo, procStopped: Bool) -> [Hit] {
        guard let j = v.job(group: p.pgid), j.state != .done else {
            return [note("zsh's job table (read from its memory) has no job for group \(p.pgid): it was disowned (`&!`, `disown`) or moved out of its job's group, so zsh sends it nothing")]
        }
        let name = "job %\(j.number) (group \(p.pgid))"
        if !v.jobControl {
            return [note("zsh's MONITOR option is off (read from its memory): zexit does not call killrunjobs")]
        }
        if v.hupOption == false {
            return [note("zsh's HUP option is off (`setopt NO_HUP`, read from its memory): killrunjobs sends its jobs nothing (Src/signals.c)")]
        }
        if !j.signalable {
            return [note("zsh's table shows \(name) not finished being set up or killed internally (no STAT_LOCKED, or STAT_NOPRINT): killrunjobs skips it")]
        }
        if event == .logout && j.foreground {
            return [note("\(name) is zsh's current job: killrunjobs skips it on `exit`")]
        }
        let tableStopped = j.state == .stopped
        let lag: String? = tableStopped != procStopped
            ? "race: zsh's table shows \(name) \(j.state.rawValue) but /proc shows it \(procStopped ? "stopped" : "running"): what zsh sends depends on when it notices"
            : nil
        if tableStopped {
            if let lag {
                return [Hit(signal: Signals.hup, cont: false, by: .shell, certain: false, maybe: true,
                            rule: "zsh skips jobs its table shows stopped (Src/signals.c killrunjobs)", doubt: lag)]
            }
            return [note("zsh's table (read from its memory) shows \(name) stopped, and killrunjobs skips stopped jobs (Src/signals.c)")]
        }
        return [Hit(signal: Signals.hup, cont: false, by: .shell, certain: lag == nil,
                    rule: "zsh sends SIGHUP to \(name) when it exits \(event == .hangup ? "on SIGHUP" : "on `exit`"): its table (read from its memory) shows it running and the HUP option on (Src/signals.c killrunjobs)",
                    doubt: lag)]
    }

    // MARK: from /proc alone

    /// bash sig.c termsig_handler → jobs.c hangup_all_jobs, end_job_control →
    /// terminate_stopped_jobs; shell.c exit_shell — without its memory.
    func bashRuleHits(_ s: ShellProfile, stopped: Bool, job: String) -> [Hit] {
        var hits: [Hit] = []
        let disown = "unless it was disowned or marked with `disown -h`, which /proc cannot show (the job's parent is the shell either way)"
        if event == .hangup {
            hits.append(Hit(signal: Signals.hup, cont: stopped, by: .shell, certain: false,
                            rule: "the leader bash forwards SIGHUP\(stopped ? "+SIGCONT" : "") to its jobs (sig.c termsig_handler → jobs.c hangup_all_jobs); \(job)",
                            doubt: disown))
            if stopped {
                hits.append(Hit(signal: Signals.term, cont: true, by: .shell, certain: false,
                                rule: "then bash sends SIGTERM+SIGCONT to every job its table still shows stopped (jobs.c end_job_control → terminate_stopped_jobs)",
                                doubt: "race: whether bash's table still shows the job stopped after its own SIGCONT is a race inside bash, and a disowned job is not in the table"))
            }
            return hits
        }
        // logout
        if s.login {
            hits.append(Hit(signal: Signals.hup, cont: stopped, by: .shell, certain: false, maybe: true,
                            rule: "a login bash sends SIGHUP to its jobs on exit when `shopt -s huponexit` is set (shell.c exit_shell); \(job)",
                            doubt: "huponexit is invisible to /proc"))
        } else if !stopped {
            hits.append(note("bash sends its running jobs nothing on `exit`: it is not a login shell, so huponexit does not apply (shell.c exit_shell; \(s.evidence))"))
        }
        if stopped {
            hits.append(Hit(signal: Signals.term, cont: true, by: .shell, certain: false,
                            rule: "on `exit` bash sends SIGTERM+SIGCONT to its stopped jobs (shell.c exit_shell → jobs.c end_job_control → terminate_stopped_jobs); \(job), and it is stopped",
                            doubt: s.login
                                ? "unless it was disowned (`disown -h` does not protect it), or huponexit already sent it SIGHUP+SIGCONT and bash no longer counts it stopped (a race inside bash); /proc shows neither"
                                : "unless it was disowned (`disown -h` does not protect it), which /proc cannot show"))
        }
        return hits
    }

    /// zsh Src/signals.c killrunjobs (from zexit on `exit` and on SIGHUP): running jobs only.
    func zshRuleHits(stopped: Bool, job: String) -> [Hit] {
        if stopped {
            return [note("zsh sends SIGHUP only to running jobs and skips stopped ones (Src/signals.c killrunjobs); \(job), and it is stopped")]
        }
        return [Hit(signal: Signals.hup, cont: false, by: .shell, certain: false,
                    rule: "zsh sends SIGHUP to its running jobs when it exits \(event == .hangup ? "on SIGHUP" : "on `exit`") (Src/signals.c killrunjobs); \(job)",
                    doubt: "unless it was disowned (`&!`, `disown`) or the NO_HUP option is set, which /proc cannot show")]
    }

    /// fish proc.cpp hup_jobs (on SIGHUP and on exit): every job, SIGCONT for stopped ones.
    /// fish is C++ with no exported globals: its job list cannot be read, so disown stays
    /// invisible.
    func fishHits(stopped: Bool, job: String) -> [Hit] {
        [Hit(signal: Signals.hup, cont: stopped, by: .shell, certain: false,
             rule: "fish sends SIGHUP\(stopped ? " and SIGCONT" : "") to every job when it exits (proc.cpp hup_jobs); \(job)",
             doubt: "unless it was disowned: fish keeps its job list in C++ objects with no exported symbols, so sessiontop cannot read it")]
    }
}
