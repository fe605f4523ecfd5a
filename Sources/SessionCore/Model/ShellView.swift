/// What a session's shell itself knows about its jobs, read from its memory (ShellMemory/):
/// the job table, `disown -h` marks, `huponexit`, zsh's HUP option — the facts /proc cannot
/// show and that decide most hangup fates (../shared/hangup-semantics.md, "What the shell's
/// memory tells").
public struct ShellView: Hashable, Sendable {
    public enum Shell: String, Hashable, Sendable {
        case bash, zsh
    }

    public var shell: Shell
    /// `5.2.15` (bash `dist_version` + `patch_level`), `5.9` (zsh `$ZSH_VERSION`).
    public var version: String
    /// The pid the shell believes it has (bash `dollar_dollar_pid`, zsh `mypid`): `$$`.
    public var shellPid: Int32
    /// bash `interactive_shell`; zsh option INTERACTIVE.
    public var interactive: Bool
    /// bash `login_shell` ≠ 0; zsh option LOGINSHELL.
    public var login: Bool
    /// bash `job_control`; zsh option MONITOR.
    public var jobControl: Bool
    /// bash `hup_on_exit` (`shopt huponexit`); nil for zsh.
    public var hupOnExit: Bool?
    /// zsh option HUP (`setopt NO_HUP` clears it); nil for bash.
    public var hupOption: Bool?
    /// A `trap … HUP` is set (bash `trap_list[SIGHUP]`, zsh `sigtrapped[SIGHUP]`): the shell
    /// runs it instead of its own SIGHUP code.
    public var hupTrapped: Bool
    /// zsh `thisjob`: the job being run now (-1: none); `exit` skips it. nil for bash.
    public var currentJob: Int32?
    /// The job table, ascending by job number.
    public var jobs: [ShellJob]

    public init(shell: Shell, version: String, shellPid: Int32, interactive: Bool, login: Bool,
                jobControl: Bool, hupOnExit: Bool? = nil, hupOption: Bool? = nil,
                hupTrapped: Bool = false, currentJob: Int32? = nil, jobs: [ShellJob]) {
        self.shell = shell
        self.version = version
        self.shellPid = shellPid
        self.interactive = interactive
        self.login = login
        self.jobControl = jobControl
        self.hupOnExit = hupOnExit
        self.hupOption = hupOption
        self.hupTrapped = hupTrapped
        self.currentJob = currentJob
        self.jobs = jobs
    }

    /// The job whose process group is `pgid` (the shell signals jobs by group: killpg).
    public func job(group pgid: Int32) -> ShellJob? { jobs.first { $0.pgid == pgid } }

    /// "bash 5.2.15", "zsh 5.9".
    public var title: String { "\(shell.rawValue) \(version)" }
}

/// One entry of the shell's job table (bash `JOB` in jobs.h, zsh `struct job` in zsh.h).
public struct ShellJob: Hashable, Sendable {
    /// How the shell sees the job.
    public enum State: String, Hashable, Sendable {
        case running, stopped, done
        /// bash JMIXED: some processes stopped, some running.
        case mixed
    }

    /// `%N`: bash's slot + 1, zsh's jobtab index.
    public var number: Int
    /// The process group the shell signals (bash `pgrp`, zsh `gleader`).
    public var pgid: Int32
    /// The processes the shell still counts alive in it (bash PROCESS with `running`, zsh
    /// `procs` without an exit status).
    public var pids: [Int32]
    public var state: State
    /// bash `J_NOHUP` (`disown -h`): hangup_all_jobs skips it. zsh has no such mark.
    public var noHup: Bool
    /// bash `J_FOREGROUND`; zsh: the job is `thisjob`.
    public var foreground: Bool
    /// zsh STAT_LOCKED and not STAT_NOPRINT: killrunjobs considers it. Always true for bash.
    public var signalable: Bool

    public init(number: Int, pgid: Int32, pids: [Int32], state: State, noHup: Bool = false,
                foreground: Bool = false, signalable: Bool = true) {
        self.number = number
        self.pgid = pgid
        self.pids = pids
        self.state = state
        self.noHup = noHup
        self.foreground = foreground
        self.signalable = signalable
    }
}

/// The result of looking into a shell's memory, after checking it against the snapshot.
public struct ShellMemory: Hashable, Sendable {
    /// The decoded view, nil when nothing could be decoded.
    public var view: ShellView?
    /// True only when `view` passed every check against /proc: the analysis uses it then.
    public var trusted: Bool
    /// Why it is not used (`bash 5.3: layout unknown`, `permission denied reading its memory
    /// (ptrace_scope 2)`, `job %2: pid 812 is not a live child of the shell`), nil when trusted.
    public var reason: String?

    public init(view: ShellView?, trusted: Bool, reason: String?) {
        self.view = view
        self.trusted = trusted
        self.reason = reason
    }

    public static func unavailable(_ reason: String) -> ShellMemory {
        ShellMemory(view: nil, trusted: false, reason: reason)
    }

    /// The view when trusted.
    public var trustedView: ShellView? { trusted ? view : nil }
}
