/// The io rule: a process no signal kills, but which holds the dead terminal open
/// (tty_io.c __tty_hangup switches its files to hung_up_tty_fops: read → EOF, write → EIO; a
/// read already blocked fails with EIO, n_tty.c n_tty_read).
extension Context {
    /// Whether the terminal itself is hung up by the event (always for `hangup`; for the
    /// others only on a non-pty terminal, tty_vhangup_session).
    var terminalHangsUp: Bool {
        event == .hangup || (!terminalIsPty && leaderExits.exits)
    }

    /// The fds of `p` open on the session's terminal: the device itself, or `/dev/tty` for a
    /// member of the session (it names the controlling terminal).
    func terminalFDs(_ p: ProcessInfo) -> [OpenFile]? {
        guard let fds = p.fds.value else { return nil }
        return fds.filter { f in
            guard f.kind == .tty else { return false }
            if let d = f.device {
                if d == session.ttyDevice { return true }
                let (ma, mi) = TTYDrivers.split(d)
                return ma == 5 && mi == 0 && p.sid == session.sid
            }
            let t = f.targetText
            return t == "/dev/" + ttyName || (t == "/dev/tty" && p.sid == session.sid)
        }
    }

    /// nil when `p` holds no fd on the terminal (or the terminal does not hang up).
    func ioVerdict(_ p: ProcessInfo, after reasons: [String]) -> Verdict? {
        guard terminalHangsUp else { return nil }
        guard let fds = terminalFDs(p) else {
            if p.fds.unknownReason == .notApplicable { return nil }
            return Verdict(fate: .survives, certain: false, reasons: reasons + [
                "uncertain: its fds are unreadable (\(p.fds.unknownReason?.description ?? "unknown")): it may hold \(ttyName) open and then get EOF/EIO"])
        }
        if fds.isEmpty { return nil }
        let list = fds.map { String($0.fd) }.joined(separator: ",")
        let holds = "it holds fd\(fds.count > 1 ? "s" : "") \(list) on \(ttyName): after the hangup a read returns EOF and a write fails with EIO (tty_io.c hung_up_tty_fops)"
        if let rfd = p.syscall.value?.readingFD, fds.contains(where: { $0.fd == rfd }) {
            return Verdict(fate: .dies, by: .io, certain: false, reasons: reasons + [
                holds,
                "it is blocked reading \(ttyName) (/proc/\(p.pid)/syscall: read on fd \(rfd)): that read fails with EIO at the hangup (n_tty.c n_tty_read), and a program reading to end of input then exits",
                "uncertain: whether it exits on EOF/EIO is up to the program"])
        }
        return Verdict(fate: .atRisk, certain: false, reasons: reasons + [
            holds, "uncertain: whether it exits when it next uses the terminal is up to the program"])
    }

    /// Processes of other sessions holding fds on this session's terminal.
    func outsiderVerdicts() -> [Int32: Verdict] {
        guard hasTerminal else { return [:] }
        var out: [Int32: Verdict] = [:]
        for (pid, p) in snapshot.processes where p.sid != session.sid && !p.isKernelThread && !p.state.isGone {
            guard let fds = terminalFDs(p), !fds.isEmpty else { continue }
            let why = "it is in session \(p.sid), so no signal aimed at session \(session.sid) reaches it"
            if terminalHangsUp, let v = ioVerdict(p, after: [why]) {
                out[pid] = v
            } else {
                out[pid] = Verdict(fate: .unaffected, reasons: [why,
                    "its fds on \(ttyName) stay usable: the event leaves the terminal open"])
            }
        }
        return out
    }
}
