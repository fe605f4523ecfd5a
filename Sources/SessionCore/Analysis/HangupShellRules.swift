/// The shells' part: what the leader sends its jobs when it exits on SIGHUP or on `exit`
/// (../shared/hangup-semantics.md, "The shells"). Nothing here for `leader-exit`: a shell
/// killed by SIGKILL sends nothing.
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
        switch s.kind {
        case .bash: return bashHits(s, stopped: stopped, job: job)
        case .zsh: return zshHits(stopped: stopped, job: job)
        case .fish: return fishHits(stopped: stopped, job: job)
        case .dash: return [note("dash sends its jobs nothing: it leaves SIGHUP at its default and just dies (\(job))")]
        case .other: return []
        }
    }

    func note(_ text: String) -> Hit {
        Hit(signal: 0, cont: false, by: .shell, certain: true, rule: text)
    }

    /// bash sig.c termsig_handler → jobs.c hangup_all_jobs, end_job_control →
    /// terminate_stopped_jobs; shell.c exit_shell.
    func bashHits(_ s: ShellProfile, stopped: Bool, job: String) -> [Hit] {
        var hits: [Hit] = []
        let disown = "unless it was disowned or marked with `disown -h`, which /proc cannot show (the job's parent is the shell either way)"
        if event == .hangup {
            hits.append(Hit(signal: Signals.hup, cont: stopped, by: .shell, certain: false,
                            rule: "the leader bash forwards SIGHUP\(stopped ? "+SIGCONT" : "") to its jobs (sig.c termsig_handler → jobs.c hangup_all_jobs); \(job)",
                            doubt: disown))
            if stopped {
                hits.append(Hit(signal: Signals.term, cont: true, by: .shell, certain: false,
                                rule: "then bash sends SIGTERM+SIGCONT to every job its table still shows stopped (jobs.c end_job_control → terminate_stopped_jobs)",
                                doubt: "whether bash's table still shows the job stopped after its own SIGCONT is a race inside bash, and a disowned job is not in the table"))
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

    /// zsh Src/jobs.c killrunjobs (from zexit on `exit` and on SIGHUP): running jobs only.
    func zshHits(stopped: Bool, job: String) -> [Hit] {
        if stopped {
            return [note("zsh sends SIGHUP only to running jobs and skips stopped ones (Src/jobs.c killrunjobs); \(job), and it is stopped")]
        }
        return [Hit(signal: Signals.hup, cont: false, by: .shell, certain: false,
                    rule: "zsh sends SIGHUP to its running jobs when it exits \(event == .hangup ? "on SIGHUP" : "on `exit`") (Src/jobs.c killrunjobs); \(job)",
                    doubt: "unless it was disowned (`&!`, `disown`) or the NO_HUP option is set, which /proc cannot show")]
    }

    /// fish proc.cpp hup_jobs (on SIGHUP and on exit): every job, SIGCONT for stopped ones.
    func fishHits(stopped: Bool, job: String) -> [Hit] {
        [Hit(signal: Signals.hup, cont: stopped, by: .shell, certain: false,
             rule: "fish sends SIGHUP\(stopped ? " and SIGCONT" : "") to every job when it exits (proc.cpp hup_jobs); \(job)",
             doubt: "unless it was disowned, which /proc cannot show")]
    }
}
