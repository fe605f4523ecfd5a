/// The io rule: a process no signal kills, but which holds the dead terminal open
/// (tty_io.c __tty_hangup switches its files to hung_up_tty_fops: read → EOF, write → EIO; a
/// read already blocked fails with EIO, n_tty.c n_tty_read). What it does then is up to the
/// program: it is at risk, certainly.
extension Context {
    /// Whether the terminal itself is hung up by the event: for `hangup`; for `logout`, since
    /// the terminal goes away once the shell has exited (sshd closes the pty, the window
    /// closes); for `leader-exit` only on a non-pty terminal (tty_vhangup_session).
    var terminalHangsUp: Bool {
        event == .hangup || event == .logout || (!terminalIsPty && leaderExits.exits)
    }

    /// The fds of `p` open on the session's terminal: the device itself, or `/dev/tty` for a
    /// member of the session (it names the controlling terminal).
    func terminalFDs(_ p: ProcessInfo) -> [OpenFile]? {
        guard let fds = p.fds.value else { return nil }
        return fds.filter { TerminalHolders.isOn(session, $0, member: p.sid == session.sid) }
    }

    enum IOFacts {
        /// It holds the terminal: the reasons that say so.
        case holds([String])
        /// Its fds are unreadable: it may hold the terminal (a reason, without `uncertain:`).
        case unreadable(String)
    }

    /// What the dead terminal means for `p`; nil when it holds no fd on it (or the event
    /// leaves the terminal alive).
    func ioFacts(_ p: ProcessInfo) -> IOFacts? {
        guard terminalHangsUp else { return nil }
        guard let fds = terminalFDs(p) else {
            if p.fds.unknownReason == .notApplicable { return nil }
            return .unreadable("its fds are unreadable (\(p.fds.unknownReason?.description ?? "unknown")): it may hold \(ttyName) open and then meet EOF/EIO")
        }
        if fds.isEmpty { return nil }
        let list = fds.map { String($0.fd) }.joined(separator: ",")
        let after = event == .logout ? "once the shell is gone the terminal goes away (sshd closes the pty, the window closes), and then" : "after the hangup"
        var lines = ["it holds fd\(fds.count > 1 ? "s" : "") \(list) on \(ttyName): \(after) a read returns EOF and a write fails with EIO (tty_io.c hung_up_tty_fops)"]
        if let rfd = p.syscall.value?.readingFD, fds.contains(where: { $0.fd == rfd }) {
            lines.append("it is blocked reading \(ttyName) right now (/proc/\(p.pid)/syscall: read on fd \(rfd)): that read fails with EIO at once (n_tty.c n_tty_read); a program reading to end of input then exits")
        }
        lines.append("no signal kills it, so whether it exits when it meets the dead terminal is up to the program")
        return .holds(lines)
    }

    /// Processes of other sessions holding fds on this session's terminal, or sharing the
    /// leader's logind scope: their fate under this event.
    func outsiderVerdicts() -> [Int32: Verdict] {
        guard hasTerminal else { return [:] }
        var out: [Int32: Verdict] = [:]
        var candidates = Set(holders.outsiders(of: session))
        if let l = logind { candidates.formUnion(l.scopeOutsiders(of: session)) }
        for pid in candidates.sorted() {
            guard let p = snapshot.processes[pid], p.sid != session.sid, !p.isKernelThread, !p.state.isGone else { continue }
            let why = "it is in session \(p.sid), so no signal aimed at session \(session.sid) reaches it"
            let logindHit = logindHits(p)
            if !logindHit.isEmpty {
                out[pid] = resolve(p, hits: [Hit(signal: 0, cont: false, by: .kernel, certain: true, rule: why)] + logindHit)
                continue
            }
            switch ioFacts(p) {
            case .holds(let lines)?:
                out[pid] = Verdict(fate: .atRisk, reasons: [why] + lines)
            case .unreadable?, nil:
                guard let fds = terminalFDs(p), !fds.isEmpty else { continue }
                out[pid] = Verdict(fate: .unaffected, reasons: [why,
                    "its fds on \(ttyName) stay usable: the event leaves the terminal open"])
            }
        }
        return out
    }
}

/// Who holds which terminal open, indexed once per snapshot: the outsiders of each terminal
/// (processes of other sessions with an fd on it) are found without a scan per session.
struct TerminalHolders {
    /// Terminal device → pids (any session) with an fd on that device.
    private var byDevice: [UInt64: [Int32]] = [:]

    init(_ snapshot: Snapshot) {
        for (pid, p) in snapshot.processes where !p.isKernelThread && !p.state.isGone {
            guard let fds = p.fds.value else { continue }
            var seen: Set<UInt64> = []
            for f in fds where f.kind == .tty {
                if let d = f.device {
                    if seen.insert(d).inserted { byDevice[d, default: []].append(pid) }
                } else if let d = FdTargetParser.ptsDevice(f.target), seen.insert(d).inserted {
                    byDevice[d, default: []].append(pid)
                }
            }
        }
    }

    /// Pids of other sessions holding `session`'s terminal. (`/dev/tty` names the caller's
    /// own controlling terminal, so it counts only for members.)
    func outsiders(of session: Session) -> [Int32] {
        guard session.ttyDevice != 0 else { return [] }
        return byDevice[session.ttyDevice] ?? []
    }

    /// Whether fd `f` is open on `session`'s terminal (its device, or `/dev/tty` for a member).
    static func isOn(_ session: Session, _ f: OpenFile, member: Bool) -> Bool {
        guard f.kind == .tty else { return false }
        if let d = f.device {
            if d == session.ttyDevice { return true }
            let (ma, mi) = TTYDrivers.split(d)
            return ma == 5 && mi == 0 && member
        }
        let t = f.targetText
        return t == "/dev/" + (session.tty ?? "\u{0}") || (t == "/dev/tty" && member)
    }
}
