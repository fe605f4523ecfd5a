@testable import SessionCore
@testable import SessionUI

/// Hand-made machines for golden screens and update tests: no /proc involved, so every field
/// (odd bytes, permission denied, stopped and orphaned groups) is exactly what the test says.
enum Fixture {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    static let pts0: UInt64 = 136 << 8 | 0
    static let pts1: UInt64 = 136 << 8 | 1

    static func proc(_ pid: Int32, ppid: Int32, pgid: Int32, sid: Int32, tpgid: Int32 = -1,
                     state: Character = "S", comm: [UInt8], argv: Field<[[UInt8]]>? = nil,
                     user: String = "alice", uid: UInt32 = 1000, tty: String? = nil,
                     start: UInt64? = nil, cwd: Field<[UInt8]>? = nil, fds: Field<[OpenFile]>? = nil,
                     ignored: SignalSet = [], caught: SignalSet = [], umask: Field<UInt32> = .known(0o022),
                     threads: Int32 = 1) -> ProcessInfo {
        let dev: UInt64 = tty == "pts/0" ? pts0 : tty == "pts/1" ? pts1 : 0
        let ttyFds: [OpenFile] = tty.map { t in (0...2).map { OpenFile(fd: $0, target: bytes("/dev/\(t)"), kind: .tty, device: dev) } } ?? []
        return ProcessInfo(
            pid: pid, ppid: ppid, pgid: pgid, sid: sid, tpgid: tpgid,
            state: ProcessState(letter: state.asciiValue!), comm: comm,
            argv: argv ?? .known([comm]), exe: .known(bytes("/usr/bin/") + comm),
            uid: uid, euid: uid, gid: uid, egid: uid, user: user, startTime: start ?? UInt64(pid) * 10,
            threads: threads, ttyDevice: dev, tty: tty,
            cwd: cwd ?? .known(bytes("/home/\(user)")), umask: umask, fds: fds ?? .known(ttyFds),
            signals: SignalDispositions(ignored: ignored, caught: caught),
            isKernelThread: false, cpuTicks: UInt64(pid % 7) * 50, rssBytes: Int64(pid % 997) * 57_344)
    }

    /// Sessions: 1 (init, no tty), 500 (sshd), 1000 (alice on pts/0, sessiontop's own: a
    /// background job, a stopped job with odd bytes, sessiontop, a nohup'ed server), 2000 (bob
    /// on pts/1, fields permission denied, a make tree), 3000 (leader gone, stopped orphan).
    static func processes() -> [Int32: ProcessInfo] {
        let denied: Field<[UInt8]> = .unknown(.permissionDenied)
        let deniedFds: Field<[OpenFile]> = .unknown(.permissionDenied)
        let list: [ProcessInfo] = [
            proc(1, ppid: 0, pgid: 1, sid: 1, comm: bytes("systemd"), argv: .known([bytes("/sbin/init")]), user: "root", uid: 0),
            proc(500, ppid: 1, pgid: 500, sid: 500, comm: bytes("sshd"),
                 argv: .known([bytes("sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups")]), user: "root", uid: 0),
            proc(1000, ppid: 500, pgid: 1000, sid: 1000, tpgid: 1200, comm: bytes("bash"), argv: .known([bytes("-bash")]),
                 tty: "pts/0", caught: SignalSet([1, 2, 15, 17, 28])),
            proc(1100, ppid: 1000, pgid: 1100, sid: 1000, tpgid: 1200, comm: bytes("sleep"),
                 argv: .known([bytes("sleep"), bytes("1000")]), tty: "pts/0"),
            proc(1150, ppid: 1000, pgid: 1150, sid: 1000, tpgid: 1200, state: "T", comm: bytes("vim"),
                 argv: .known([bytes("vim"), bytes("notes.txt")]), tty: "pts/0"),
            proc(1160, ppid: 1150, pgid: 1150, sid: 1000, tpgid: 1200, state: "T", comm: [0x65, 0x76, 0x1b, 0x69, 0x6c, 0xff],
                 argv: .known([[0x2e, 0x2f, 0x65, 0x76, 0x1b] + bytes("[31mil"), [0xff, 0xfe], bytes("日本語テキスト")]),
                 tty: "pts/0", umask: .known(0o077)),
            proc(1200, ppid: 1000, pgid: 1200, sid: 1000, tpgid: 1200, state: "R", comm: bytes("sessiontop"), tty: "pts/0"),
            proc(1300, ppid: 1000, pgid: 1300, sid: 1000, tpgid: 1200, comm: bytes("python3"),
                 argv: .known([bytes("python3"), bytes("server.py"), bytes("--port"), bytes("8000")]), tty: "pts/0",
                 fds: .known([OpenFile(fd: 0, target: bytes("/dev/null"), kind: .device),
                              OpenFile(fd: 1, target: bytes("/home/alice/nohup.out"), kind: .regular),
                              OpenFile(fd: 2, target: bytes("/home/alice/nohup.out"), kind: .regular),
                              OpenFile(fd: 3, target: bytes("socket:[4242]"), kind: .socket),
                              OpenFile(fd: 4, target: bytes("/dev/pts/0"), kind: .tty, device: pts0)]),
                 ignored: SignalSet([1]), threads: 3),
            proc(2000, ppid: 500, pgid: 2000, sid: 2000, tpgid: 2100, comm: bytes("zsh"), argv: .known([bytes("-zsh")]),
                 user: "bob", uid: 1001, tty: "pts/1", cwd: denied, fds: deniedFds),
            proc(2100, ppid: 2000, pgid: 2100, sid: 2000, tpgid: 2100, comm: bytes("make"),
                 argv: .known([bytes("make"), bytes("-j2")]), user: "bob", uid: 1001, tty: "pts/1", cwd: denied, fds: deniedFds),
            proc(2101, ppid: 2100, pgid: 2100, sid: 2000, tpgid: 2100, comm: bytes("cc1"),
                 argv: .known([bytes("cc1"), bytes("main.c")]), user: "bob", uid: 1001, tty: "pts/1", cwd: denied, fds: deniedFds),
            proc(2102, ppid: 2100, pgid: 2100, sid: 2000, tpgid: 2100, comm: bytes("cc1"),
                 argv: .known([bytes("cc1"), bytes("util.c")]), user: "bob", uid: 1001, tty: "pts/1", cwd: denied, fds: deniedFds),
            proc(2103, ppid: 2102, pgid: 2100, sid: 2000, tpgid: 2100, comm: bytes("as"),
                 argv: .unknown(.permissionDenied), user: "bob", uid: 1001, tty: "pts/1", cwd: denied, fds: deniedFds,
                 umask: .unknown(.permissionDenied)),
            proc(3001, ppid: 1, pgid: 3001, sid: 3000, state: "T", comm: bytes("rsync"),
                 argv: .known([bytes("rsync"), bytes("-a"), bytes("src/"), bytes("dst/")])),
        ]
        return Dictionary(uniqueKeysWithValues: list.map { ($0.pid, $0) })
    }

    static func snapshot(_ procs: [Int32: ProcessInfo]? = nil) -> Snapshot {
        // Up 2 days: ages from the start times (pid × 10 ticks) are about 2 days too.
        Snapshot(processes: procs ?? processes(), selfPid: 1200, uptime: 180_000, hostname: "testbox")
    }

    /// Hand-made verdicts (the real analysis lives in SessionCore; the views only show them).
    static func analyze(_ snap: Snapshot, _ sid: Int32, _ event: HangupEvent) -> [Int32: Verdict] {
        var out: [Int32: Verdict] = [:]
        for (pid, p) in snap.processes where p.sid == sid {
            switch pid {
            case 1000: out[pid] = Verdict(fate: .dies, by: .kernel, reasons: ["session leader: the tty layer sends it SIGHUP (tty_jobctrl.c tty_signal_session_leader)"])
            case 1100: out[pid] = Verdict(fate: event == .leaderExit ? .survives : .dies, by: .shell, certain: false,
                                          reasons: ["background job of an interactive bash: hangup_all_jobs sends SIGHUP", "unless it was disowned, which /proc cannot show"])
            case 1150, 1160: out[pid] = Verdict(fate: .dies, by: .shell, reasons: ["stopped job: bash sends SIGTERM + SIGCONT"])
            case 1200: out[pid] = Verdict(fate: .dies, by: .kernel, reasons: ["foreground group: SIGHUP when the leader exits"])
            case 1300: out[pid] = Verdict(fate: .atRisk, by: .io, certain: false,
                                          reasons: ["ignores SIGHUP (nohup)", "fd 4 is the terminal: its next write gets EIO"])
            case 2000: out[pid] = Verdict(fate: .dies, by: .kernel, reasons: ["session leader"])
            default: out[pid] = Verdict(fate: .survives, reasons: ["zsh with NO_HUP assumed"])
            }
        }
        return out
    }

    static func state(width: Int = 100, height: Int = 30, color: Bool = true, procs: [Int32: ProcessInfo]? = nil) -> AppState {
        var s = AppState(snapshot: snapshot(procs), width: width, height: height, color: color, unicode: true,
                         interval: 1.5, myUID: 1000, analyze: analyze)
        s.now = 100
        return s
    }
}
