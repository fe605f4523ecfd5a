/// The kernel's part: the leader's SIGHUP, the foreground group's SIGHUP when the leader
/// exits, the orphaned-group rule (../shared/hangup-semantics.md, "The kernel").
extension Context {
    /// Pty slaves are majors 136–143 (Documentation/admin-guide/devices.txt). On any other
    /// terminal the leader's exit hangs the terminal up for everyone (tty_vhangup_session).
    var terminalIsPty: Bool {
        (136...143).contains(TTYDrivers.split(session.ttyDevice).major)
    }

    /// The leader's own fate: it is the one the event happens to.
    func leaderOwnVerdict(_ l: ProcessInfo) -> Verdict {
        let name = shell?.name ?? l.commText
        switch event {
        case .leaderExit:
            return Verdict(fate: .dies, by: nil, reasons: [
                "it is the session leader (\(name)) and the event kills it with SIGKILL, which nothing can ignore, block or catch"])
        case .logout:
            var reasons = ["it is the session leader (\(name)) and the event is its exit; then the terminal goes away (sshd closes the pty once the session's shell exits, a terminal window closes)"]
            if let s = shell, s.interactive, s.kind != .other {
                switch s.kind {
                case .bash, .dash:
                    let stoppedJobs: Bool
                    if let v = view { stoppedJobs = v.jobs.contains { $0.state == .stopped } }
                    else { stoppedJobs = session.groups.contains(where: { $0.hasStopped && $0.pgid != l.pgid }) }
                    if stoppedJobs {
                        reasons.append("\(s.name) refuses the first `exit` while it has stopped jobs (\"There are stopped jobs\"); logout means typing `exit` again, as users do")
                    }
                case .zsh, .fish:
                    if !(view.map { $0.jobs.filter { $0.state != .done }.isEmpty } ?? jobs.isEmpty) {
                        reasons.append("\(s.name) refuses the first `exit` while it has jobs; logout means typing `exit` again, as users do")
                    }
                default: break
                }
            } else if let s = shell, !s.interactive {
                reasons.append("it reads no commands from the terminal (\(s.evidence)): logout here means it reaches its end and exits")
            }
            return Verdict(fate: .dies, by: nil, reasons: reasons)
        case .hangup:
            let hup = Hit(signal: Signals.hup, cont: true, by: .kernel, certain: true,
                          rule: "the tty layer sends SIGHUP+SIGCONT to the session leader (tty_jobctrl.c tty_signal_session_leader)")
            if let s = shell, s.kind == .bash || s.kind == .zsh || s.kind == .fish,
               l.signals.caught.contains(Signals.hup),
               !l.signals.ignored.contains(Signals.hup), !l.signals.blockedInAllThreads.contains(Signals.hup) {
                if let v = view, v.hupTrapped {
                    return Verdict(fate: .atRisk, reasons: [hup.rule,
                        "its memory shows a `trap … HUP` (\(v.shell == .bash ? "trap_list[SIGHUP]" : "sigtrapped[SIGHUP]")): \(s.name) runs that trap instead of its own SIGHUP code, and what the trap does is up to it"])
                }
                let how: String
                switch s.kind {
                case .bash: how = "bash catches SIGHUP (SigCgt holds HUP), hangs up its jobs, then exits by SIGHUP (sig.c termsig_handler)"
                case .zsh: how = "zsh catches SIGHUP (SigCgt holds HUP), hangs up its running jobs and exits (Src/signals.c → zexit)"
                default: how = "fish catches SIGHUP (SigCgt holds HUP), hangs up its jobs and exits (reader.cpp, proc.cpp hup_jobs)"
                }
                return Verdict(fate: .dies, by: .kernel, reasons: [hup.rule, how])
            }
            return resolve(l, hits: [hup])
        }
    }

    /// The group the kernel signals when the leader exits: `tty_old_pgrp` (the foreground group
    /// at hangup) after a hangup, the current foreground group otherwise
    /// (kernel/exit.c do_exit → tty_jobctrl.c disassociate_ctty).
    var foregroundAtLeaderExit: Int32? {
        if event == .logout, let s = shell, s.interactive, s.kind != .other {
            // An interactive shell reads `exit` at its prompt: its own group is in the
            // foreground (bash also gives the terminal back to it, jobs.c end_job_control).
            return leaderPgid
        }
        return session.foregroundPgid
    }

    func kernelHitsAtLeaderExit(_ p: ProcessInfo, exits: (exits: Bool, certain: Bool, doubt: String?)) -> [Hit] {
        guard exits.exits, let fg = foregroundAtLeaderExit, p.pgid == fg, p.pid != leader?.pid else { return [] }
        let doubt = exits.doubt
        if event == .hangup {
            return [Hit(signal: Signals.hup, cont: true, by: .kernel, certain: exits.certain,
                        rule: "when the leader exits after the hangup, the kernel sends SIGHUP+SIGCONT to the group that was in the foreground, \(fg) (kernel/exit.c do_exit → tty_jobctrl.c disassociate_ctty, tty_old_pgrp)",
                        doubt: doubt)]
        }
        if terminalIsPty {
            return [Hit(signal: Signals.hup, cont: false, by: .kernel, certain: exits.certain,
                        rule: "the terminal stays, so the leader's exit sends SIGHUP (no SIGCONT) to the foreground group \(fg) (kernel/exit.c do_exit → tty_jobctrl.c disassociate_ctty)",
                        doubt: doubt)]
        }
        return [Hit(signal: Signals.hup, cont: false, by: .kernel, certain: exits.certain,
                    rule: "\(ttyName) is not a pty, so the leader's exit hangs it up and sends SIGHUP to the foreground group \(fg) (tty_jobctrl.c disassociate_ctty → tty_vhangup_session)",
                    doubt: doubt)]
    }

    /// kernel/exit.c kill_orphaned_pgrp, called for each child of the exiting leader: a group
    /// (other than the leader's) that loses its last parent in another group of the same
    /// session, and has a stopped member, gets SIGHUP then SIGCONT. The new parent (init or a
    /// subreaper) is in another session, so it does not keep the group un-orphaned.
    func orphanedGroupHit(_ p: ProcessInfo, earlier: [Hit], exits: (exits: Bool, certain: Bool, doubt: String?)) -> Hit? {
        guard let l = leader, p.pgid != l.pgid, let g = snapshot.group(p.pgid), g.sid == session.sid else { return nil }
        // Checked only for groups holding a child of the exiting leader (reparent_leader).
        guard g.members.contains(where: { snapshot.processes[$0]?.ppid == l.pid }) else { return nil }
        guard let stoppedPid = g.members.first(where: { snapshot.processes[$0]?.state.isStopped == true }) else { return nil }
        // A certain SIGCONT before the leader's exit means the group is no longer stopped.
        if earlier.contains(where: { $0.cont && $0.certain && !$0.maybe }) { return nil }
        for m in g.members {
            guard let mp = snapshot.processes[m], !mp.state.isGone, mp.ppid != l.pid else { continue }
            if let parent = snapshot.processes[mp.ppid], parent.sid == session.sid, parent.pgid != g.pgid,
               !parent.state.isGone {
                // Another parent in the session keeps the group un-orphaned (will_become_orphaned_pgrp).
                return Hit(signal: 0, cont: false, by: .orphanedGroup, certain: true,
                           rule: "group \(g.pgid) is stopped but stays un-orphaned after the leader exits: member \(m)'s parent \(parent.pid) is in group \(parent.pgid) of this session (kernel/exit.c will_become_orphaned_pgrp)")
            }
        }
        let unless = earlier.contains(where: { $0.cont && !$0.maybe }) ? "if the shell's SIGCONT above was not sent (a disowned job), " : ""
        return Hit(signal: Signals.hup, cont: true, by: .orphanedGroup, certain: exits.certain,
                   rule: unless + "group \(g.pgid) has a stopped member (\(stoppedPid), state T) and is orphaned when the leader exits (its parent is the leader; the new parent is in another session), so the kernel sends it SIGHUP+SIGCONT (kernel/exit.c kill_orphaned_pgrp)",
                   doubt: exits.doubt)
    }
}
