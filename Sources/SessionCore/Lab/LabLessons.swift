/// The lab's lessons, as data: each step is a thing to type, what to look at, a plain-words
/// explanation with the kernel or shell source as a footnote, and a check that sessiontop
/// evaluates against its own snapshot before the lesson moves on (`sessiontop lab`, issue 12).
public enum LabShell: String, CaseIterable, Sendable, Codable {
    case bash, zsh, fish, dash

    /// The interactive shell, startup files skipped unless `login` (bash --norc --noprofile,
    /// zsh -f, fish --no-config, dash without $ENV).
    public func argv(login: Bool) -> [String] {
        switch (self, login) {
        case (.bash, false): return ["bash", "--norc", "--noprofile", "-i"]
        case (.bash, true): return ["bash", "--login", "-i"]
        case (.zsh, false): return ["zsh", "-f", "-i"]
        case (.zsh, true): return ["zsh", "-l", "-i"]
        case (.fish, false): return ["fish", "--no-config", "--private", "-i"]
        case (.fish, true): return ["fish", "--login", "-i"]
        case (.dash, false): return ["dash", "-i"]
        case (.dash, true): return ["dash", "-l", "-i"]
        }
    }
}

/// What sessiontop checks in a snapshot before a step counts as done. A process is named by
/// `marker`: an argument exactly equal to it (`sleep 1001` has the argument `1001`).
public enum LabCheck: Hashable, Sendable {
    /// It runs in the lab session, its group is its own (pgid == pid) and not the shell's, and
    /// it is not the terminal's foreground group.
    case backgroundOwnGroup(marker: String)
    /// It shares its group with at least one other process (`a | b`: one group).
    case pipelineOneGroup(marker: String)
    /// Its group is the terminal's foreground group.
    case foreground(marker: String)
    /// It is stopped (state T) and the shell's group has the terminal again.
    case stoppedShellHasTerminal(marker: String)
    /// It runs (not stopped) in the background.
    case runningInBackground(marker: String)
    /// No process with the marker is left in the lab session.
    case gone(marker: String)
    /// It ignores SIGHUP (SigIgn bit 1) and runs in the background.
    case ignoresHangup(marker: String)
    /// It leads a session of its own and has no controlling terminal.
    case ownSession(marker: String)
    /// It is alive in the lab session but not in the shell's job table (read from its memory).
    case notInJobTable(marker: String)
    /// Its job carries bash's `J_NOHUP` mark (`disown -h`).
    case noHupMark(marker: String)
    /// zsh's HUP option is off (`setopt NO_HUP`).
    case zshNoHupOption
    /// Its group is orphaned: no member has a parent in another group of the session.
    case orphanedGroup(marker: String)
    /// It ignores SIGHUP and still has an fd on the lab terminal.
    case ignoresHangupHoldsTerminal(marker: String)
    /// Nothing sessiontop can read shows it (fish's job table): the step is passed by hand.
    case unverifiable(why: String)
}

/// The result of a check: whether it holds, and what sessiontop saw, in plain words.
public struct LabCheckResult: Hashable, Sendable {
    public var holds: Bool
    public var seen: String
    public init(holds: Bool, seen: String) {
        self.holds = holds
        self.seen = seen
    }
}

public struct LabStep: Hashable, Sendable {
    /// What to type (or the key to press, e.g. `Ctrl-Z`).
    public var type: String
    /// Where to look in sessiontop's pane.
    public var look: String
    /// Plain words first.
    public var explain: String
    /// The kernel or shell source behind it, a footnote.
    public var source: String
    public var check: LabCheck
}

public struct LabLesson: Hashable, Sendable {
    public var title: String
    public var steps: [LabStep]
}

public enum LabLessons {
    /// The lessons for `shell`, in the order the issue lists them; steps a shell has no command
    /// for (dash has no `disown`) are left out, fish's unreadable job table is said so.
    public static func lessons(for shell: LabShell) -> [LabLesson] {
        var out: [LabLesson] = []
        out.append(LabLesson(title: "A background job is its own process group", steps: [
            LabStep(type: "sleep 1001 &", look: "a new group under the session, marked background",
                    explain: "The shell puts every job in a process group of its own, so that keyboard signals (Ctrl-C, Ctrl-Z) reach the job and not the shell.",
                    source: "setpgid(2); bash jobs.c make_child, zsh exec.c, fish proc.cpp",
                    check: .backgroundOwnGroup(marker: "1001")),
        ]))
        out.append(LabLesson(title: "A pipeline is one group", steps: [
            LabStep(type: "sleep 1002 | cat &", look: "one group holding both sleep and cat",
                    explain: "Every process of a pipeline joins the same group: the job is the whole pipeline, and one signal reaches all of it.",
                    source: "POSIX XBD 3.297 process group; bash execute_cmd.c execute_pipeline",
                    check: .pipelineOneGroup(marker: "1002")),
        ]))
        out.append(LabLesson(title: "Ctrl-Z stops a group; the shell takes the terminal back", steps: [
            LabStep(type: "sleep 1003", look: "its group is now the terminal's foreground group (+)",
                    explain: "A job run without & gets the terminal: its group becomes the foreground group, the shell waits.",
                    source: "tcsetpgrp(3); drivers/tty/tty_jobctrl.c",
                    check: .foreground(marker: "1003")),
            LabStep(type: "Ctrl-Z", look: "sleep 1003 in state T; the shell's group is foreground again",
                    explain: "Ctrl-Z makes the terminal send SIGTSTP to the foreground group: it stops, and the shell puts itself back in the foreground.",
                    source: "drivers/tty/n_tty.c isig (VSUSP); bash jobs.c give_terminal_to",
                    check: .stoppedShellHasTerminal(marker: "1003")),
        ]))
        out.append(LabLesson(title: "bg and fg", steps: [
            LabStep(type: "bg", look: "sleep 1003 runs again (state S), still in the background",
                    explain: "bg sends SIGCONT to the stopped group and leaves it in the background.",
                    source: "bash jobs.c start_job(…, 0); killpg(pgid, SIGCONT)",
                    check: .runningInBackground(marker: "1003")),
            LabStep(type: shell == .fish ? "fg" : "fg %?1003", look: "its group is the foreground group (+) again",
                    explain: "fg gives the terminal back to the job's group (tcsetpgrp) and continues it\(shell == .fish ? "" : " (%?1003: the job whose command contains 1003)").",
                    source: "bash jobs.c start_job(…, 1); tcsetpgrp(3)",
                    check: .foreground(marker: "1003")),
            LabStep(type: "Ctrl-C", look: "sleep 1003 is gone",
                    explain: "Ctrl-C sends SIGINT to the foreground group: the whole job ends, the shell (another group) is untouched.",
                    source: "drivers/tty/n_tty.c isig (VINTR)",
                    check: .gone(marker: "1003")),
        ]))
        out.append(LabLesson(title: "nohup: ignore the hangup", steps: [
            LabStep(type: "nohup sleep 1004 >/dev/null 2>&1 &", look: "its signals: SIGHUP ignored; its fate: survives",
                    explain: "nohup sets SIGHUP to ignored and then runs the program; an ignored signal stays ignored across exec, so the hangup cannot kill it.",
                    source: "coreutils nohup.c signal(SIGHUP, SIG_IGN); execve(2) keeps ignored signals",
                    check: .ignoresHangup(marker: "1004")),
        ]))
        out.append(LabLesson(title: "setsid: leave the session", steps: [
            LabStep(type: "setsid sleep 1005 &", look: "sleep 1005 is no longer in this session: it leads its own, with no terminal",
                    explain: "setsid starts a new session with no controlling terminal: no hangup of this terminal can reach it.",
                    source: "setsid(2); kernel/sys.c ksys_setsid",
                    check: .ownSession(marker: "1005")),
        ]))
        if shell != .dash {
            let readable = shell == .bash || shell == .zsh
            let disownCheck: LabCheck = readable ? .notInJobTable(marker: "1006")
                : .unverifiable(why: "fish's job table cannot be read from outside: press > when you have typed it")
            out.append(LabLesson(title: "disown: the shell forgets the job", steps: [
                LabStep(type: "sleep 1006 &", look: "a background job, in the shell's job table (detail pane of the shell)",
                        explain: "The shell remembers its jobs; on hangup it sends SIGHUP to each job it remembers.",
                        source: "bash jobs.c hangup_all_jobs; zsh signals.c killrunjobs; fish proc.cpp hup_jobs",
                        check: .backgroundOwnGroup(marker: "1006")),
                LabStep(type: "disown", look: "the job left the shell's job table: the shell will not send it SIGHUP",
                        explain: "disown removes the job from the table: the shell no longer signals it. The kernel still does, if the job is the terminal's foreground group or is stopped and orphaned.",
                        source: "bash jobs.c delete_job; zsh jobs.c bin_disown; fish builtin_disown.cpp",
                        check: disownCheck),
            ]))
        }
        if shell == .bash {
            out.append(LabLesson(title: "disown -h: keep the job, skip the SIGHUP", steps: [
                LabStep(type: "sleep 1007 &", look: "a background job", explain: "Another job, to mark.",
                        source: "bash jobs.c", check: .backgroundOwnGroup(marker: "1007")),
                LabStep(type: "disown -h", look: "the job is still in the table, marked no-hangup",
                        explain: "disown -h keeps the job (jobs, fg, wait still work) but marks it so the shell's hangup skips it.",
                        source: "bash jobs.c nohup_job (J_NOHUP), hangup_all_jobs skips it",
                        check: .noHupMark(marker: "1007")),
            ]))
        } else if shell == .zsh {
            out.append(LabLesson(title: "zsh has no disown -h: setopt NO_HUP", steps: [
                LabStep(type: "setopt NO_HUP", look: "the shell's detail: HUP option off",
                        explain: "zsh's disown has no -h; with NO_HUP set, zsh sends no SIGHUP to any of its jobs when it exits or hangs up.",
                        source: "zsh signals.c killrunjobs (isset(HUP))",
                        check: .zshNoHupOption),
            ]))
        }
        out.append(LabLesson(title: "An orphaned group", steps: [
            LabStep(type: "sh -c 'sleep 1009 &'", look: "sleep 1009's group is marked orphaned: its parent sh is gone",
                    explain: "A group is orphaned when no member has a parent in another group of the session: no shell is left to manage it. If it is stopped, the kernel will send it SIGHUP and SIGCONT.",
                    source: "kernel/exit.c will_become_orphaned_pgrp, kill_orphaned_pgrp",
                    check: .orphanedGroup(marker: "1009")),
        ]))
        out.append(LabLesson(title: "nohup is not enough: exec >/dev/tty", steps: [
            LabStep(type: "nohup sh -c 'exec >/dev/tty; sleep 1008' >/dev/null 2>&1 &",
                    look: "sleep 1008 ignores SIGHUP yet holds the terminal: at risk",
                    explain: "It ignores SIGHUP, but it writes to the terminal: once the terminal is gone every write fails (EIO), and what it does then is up to the program.",
                    source: "drivers/tty/tty_io.c hung_up_tty_write returns -EIO",
                    check: .ignoresHangupHoldsTerminal(marker: "1008")),
        ]))
        return out
    }
}

extension LabCheck {
    /// Evaluates the check for the lab session `sid` (its leader is the shell).
    public func evaluate(_ snap: Snapshot, session sid: Int32) -> LabCheckResult {
        let session = snap.session(sid)
        let leaderPgid = snap.process(sid)?.pgid ?? sid
        func find(_ marker: String, anywhere: Bool = false) -> ProcessInfo? {
            let m = Array(marker.utf8)
            let hits = snap.processes.values.filter { p in
                guard !p.state.isGone, anywhere || p.sid == sid, case .known(let argv) = p.argv else { return false }
                return argv.dropFirst().contains(m)
            }
            // In the lab session first, the youngest when several.
            return hits.max { a, b in
                (a.sid == sid ? 1 : 0, a.startTime) < (b.sid == sid ? 1 : 0, b.startTime)
            }
        }
        func missing(_ marker: String) -> LabCheckResult {
            LabCheckResult(holds: false, seen: "no process with argument \(marker) in this session yet")
        }
        func name(_ p: ProcessInfo) -> String { "\(p.commandLine) (pid \(p.pid), group \(p.pgid))" }
        let fg = session?.foregroundPgid
        switch self {
        case .backgroundOwnGroup(let m):
            guard let p = find(m) else { return missing(m) }
            let ok = p.pgid == p.pid && p.pgid != leaderPgid && fg != p.pgid
            return LabCheckResult(holds: ok, seen: ok ? "\(name(p)): its own group, in the background"
                                  : "\(name(p)): \(p.pgid == leaderPgid ? "in the shell's group" : fg == p.pgid ? "in the foreground" : "not a group leader")")
        case .pipelineOneGroup(let m):
            guard let p = find(m) else { return missing(m) }
            let members = snap.group(p.pgid)?.members.count ?? 0
            let ok = members >= 2 && p.pgid != leaderPgid
            return LabCheckResult(holds: ok, seen: "\(name(p)): its group has \(members) processes")
        case .foreground(let m):
            guard let p = find(m) else { return missing(m) }
            let ok = fg == p.pgid && !p.state.isStopped
            return LabCheckResult(holds: ok, seen: "\(name(p)): \(fg == p.pgid ? "foreground" : "background")\(p.state.isStopped ? ", stopped" : "")")
        case .stoppedShellHasTerminal(let m):
            guard let p = find(m) else { return missing(m) }
            let ok = p.state.isStopped && fg == leaderPgid
            return LabCheckResult(holds: ok, seen: "\(name(p)): \(p.state.meaning); foreground group \(fg.map(String.init) ?? "none")")
        case .runningInBackground(let m):
            guard let p = find(m) else { return missing(m) }
            let ok = !p.state.isStopped && fg != p.pgid
            return LabCheckResult(holds: ok, seen: "\(name(p)): \(p.state.meaning), \(fg == p.pgid ? "foreground" : "background")")
        case .gone(let m):
            if let p = find(m) { return LabCheckResult(holds: false, seen: "\(name(p)) is still there") }
            return LabCheckResult(holds: true, seen: "no process with argument \(m) is left")
        case .ignoresHangup(let m):
            guard let p = find(m) else { return missing(m) }
            let ok = p.signals.ignored.contains(Signals.hup) && fg != p.pgid
            return LabCheckResult(holds: ok, seen: "\(name(p)): SIGHUP \(p.signals.ignored.contains(Signals.hup) ? "ignored" : "not ignored")")
        case .ownSession(let m):
            guard let p = find(m, anywhere: true) else { return missing(m) }
            let ok = p.sid == p.pid && p.sid != sid && p.ttyDevice == 0
            return LabCheckResult(holds: ok, seen: "\(name(p)): session \(p.sid)\(p.ttyDevice == 0 ? ", no terminal" : ", terminal \(p.tty ?? "?")")")
        case .notInJobTable(let m):
            guard let p = find(m) else { return missing(m) }
            guard let mem = snap.shellMemory[sid] else {
                return LabCheckResult(holds: false, seen: "the shell's memory was not read yet")
            }
            guard let view = mem.trustedView else {
                return LabCheckResult(holds: false, seen: "the shell's job table cannot be read: \(mem.reason ?? "unknown")")
            }
            let job = view.job(group: p.pgid)
            return LabCheckResult(holds: job == nil, seen: job.map { "\(name(p)) is job %\($0.number)" }
                                  ?? "\(name(p)) is in no job of \(view.title)'s table")
        case .noHupMark(let m):
            guard let p = find(m) else { return missing(m) }
            guard let view = snap.shellMemory[sid]?.trustedView else {
                return LabCheckResult(holds: false, seen: "the shell's job table cannot be read (\(snap.shellMemory[sid]?.reason ?? "not read yet"))")
            }
            guard let job = view.job(group: p.pgid) else {
                return LabCheckResult(holds: false, seen: "\(name(p)) is not in the job table (disown without -h removes it)")
            }
            return LabCheckResult(holds: job.noHup, seen: "job %\(job.number): \(job.noHup ? "marked no-hangup" : "not marked")")
        case .zshNoHupOption:
            guard let view = snap.shellMemory[sid]?.trustedView else {
                return LabCheckResult(holds: false, seen: "the shell's options cannot be read (\(snap.shellMemory[sid]?.reason ?? "not read yet"))")
            }
            let off = view.hupOption == false
            return LabCheckResult(holds: off, seen: "HUP option \(off ? "off" : "on")")
        case .orphanedGroup(let m):
            guard let p = find(m) else { return missing(m) }
            let g = snap.group(p.pgid)
            let ok = g?.isOrphaned == true && p.pgid != leaderPgid
            return LabCheckResult(holds: ok, seen: "\(name(p)): parent \(p.ppid), group \(ok ? "orphaned" : "not orphaned")")
        case .ignoresHangupHoldsTerminal(let m):
            guard let p = find(m) else { return missing(m) }
            let ign = p.signals.ignored.contains(Signals.hup)
            // The device itself, or /dev/tty (it names the controlling terminal): TerminalHolders.isOn.
            let holds = session.map { s in p.fds.value?.contains { TerminalHolders.isOn(s, $0, member: p.sid == s.sid) } ?? false } ?? false
            return LabCheckResult(holds: ign && holds, seen: "\(name(p)): SIGHUP \(ign ? "ignored" : "not ignored"), \(holds ? "holds the terminal" : "no fd on the terminal")")
        case .unverifiable(let why):
            return LabCheckResult(holds: false, seen: why)
        }
    }

    /// The step can only be passed by hand.
    public var isUnverifiable: Bool { if case .unverifiable = self { return true } else { return false } }
}
