/// systemd-logind's part (logind.conf(5), systemd-logind(8)): when a logind session ends
/// (an SSH or console login logging out), logind abandons its `session-N.scope` and, with
/// `KillUserProcesses=yes` for that user, stops it: SIGTERM, then SIGKILL to whatever is left
/// — whatever SIGHUP did, `nohup` and `setsid` included (logind-session.c session_stop_scope,
/// logind.c manager_shall_kill). When it was the user's last session and the user does not
/// linger, the user manager (`user@UID.service`) and everything under it stops too
/// (logind-user.c user_may_gc → user_stop).
struct LogindFacts {
    let policy: LogindPolicy
    /// The leader's logind session and its scope path.
    let sessionID: String
    let scope: [UInt8]
    let uid: UInt32
    let user: String
    /// Whether the event ends the logind session: logout always (the login's shell exits);
    /// a hangup when the logind session's leader is the shell or its parent (sshd's session
    /// process, `login`): it ends with the terminal.
    let endsOnHangup: Bool
    /// No other logind session of this user is visible: this one is its last.
    let lastSession: Bool
    let snapshot: Snapshot

    init?(snapshot: Snapshot, leader: ProcessInfo) {
        guard let policy = snapshot.logind, let path = leader.cgroup.value, let place = CgroupPlace.of(path),
              case .session(let id, let scope) = place.kind
        else { return nil }
        self.policy = policy
        self.snapshot = snapshot
        sessionID = id
        self.scope = scope
        uid = place.uid
        user = leader.uid == place.uid ? leader.user : String(place.uid)
        if let l = policy.sessionLeaders[id] {
            endsOnHangup = l == leader.pid || l == leader.ppid
        } else {
            endsOnHangup = false
        }
        var others = false
        for p in snapshot.processes.values {
            guard let c = p.cgroup.value, let pl = CgroupPlace.of(c), pl.uid == place.uid,
                  case .session(let other, _) = pl.kind, other != id else { continue }
            others = true
            break
        }
        lastSession = !others
    }

    func inScope(_ p: ProcessInfo) -> Bool {
        guard let c = p.cgroup.value, c.count >= scope.count, Array(c.prefix(scope.count)) == scope else { return false }
        return c.count == scope.count || c[scope.count] == UInt8(ascii: "/")
    }

    func inUserManager(_ p: ProcessInfo) -> Bool {
        guard let c = p.cgroup.value, let pl = CgroupPlace.of(c), pl.uid == uid, pl.kind == .userManager else { return false }
        return true
    }

    /// Processes of other sessions the logind rule reaches: those in the scope, and those of
    /// the user manager when it stops.
    func scopeOutsiders(of session: Session) -> [Int32] {
        snapshot.processes.values.filter { p in
            p.sid != session.sid && !p.isKernelThread && (inScope(p) || (lastSession && inUserManager(p)))
        }.map(\.pid)
    }
}

extension Context {
    /// Whether this event ends the leader's logind session.
    var logindSessionEnds: Bool {
        guard let l = logind else { return false }
        switch event {
        case .logout: return true
        case .hangup: return l.endsOnHangup
        case .leaderExit: return false
        }
    }

    func logindHits(_ p: ProcessInfo) -> [Hit] {
        guard let l = logind, logindSessionEnds, p.pid != leader?.pid else { return [] }
        let ends = event == .logout ? "at logout" : "when the hangup ends the login (its leader \(l.policy.sessionLeaders[l.sessionID].map(String.init) ?? "?") is the shell's parent)"
        if l.inScope(p) {
            let scope = "session-\(l.sessionID).scope"
            let (kill, why) = l.policy.shallKill(user: l.user)
            switch kill {
            case true?:
                return [Hit(signal: Signals.kill, cont: true, by: .logind, certain: true,
                            rule: "it is in logind's \(scope) (its cgroup): \(why), so logind stops the scope \(ends) — SIGTERM, then SIGKILL to what is left (logind-session.c session_stop_scope, logind.c manager_shall_kill)")]
            case false?:
                return [Hit(signal: 0, cont: false, by: .logind, certain: true,
                            rule: "it is in logind's \(scope): \(why), so logind leaves the scope's processes alone \(ends) (logind.c manager_shall_kill)")]
            case nil:
                return [Hit(signal: Signals.kill, cont: true, by: .logind, certain: false, maybe: true,
                            rule: "it is in logind's \(scope), which logind stops \(ends) when KillUserProcesses is on for \(l.user)",
                            doubt: why)]
            }
        }
        if l.inUserManager(p) {
            if l.policy.lingering.contains(l.user) {
                return [Hit(signal: 0, cont: false, by: .logind, certain: true,
                            rule: "it runs under user@\(l.uid).service, and \(l.user) lingers (/var/lib/systemd/linger/\(l.user)): the user manager outlives the last session")]
            }
            if l.lastSession {
                return [Hit(signal: Signals.kill, cont: true, by: .logind, certain: true,
                            rule: "it runs under user@\(l.uid).service; this is \(l.user)'s last logind session and \(l.user) does not linger, so logind stops the user manager and everything under it after UserStopDelaySec (logind-user.c user_may_gc → user_stop)")]
            }
        }
        return []
    }
}
