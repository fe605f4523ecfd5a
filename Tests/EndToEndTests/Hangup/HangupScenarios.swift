import Testing
import SessionCore

/// The shells under test and the scenarios each sets up (issue 3, "Proof against reality").
enum ShellUnderTest: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case bash, zsh, fish, dash
    /// A non-interactive leader: `bash -c '…; read x'` (its jobs stay in its own group).
    case bashC = "bash-c"
    /// A login bash (`-l`) with `shopt -s huponexit` typed at its prompt: on `exit` it hangs up
    /// its jobs (shell.c exit_shell); /proc shows only the login flag, its memory shows the option.
    case bashLogin = "bash-login+huponexit"
    /// A plain (not login) bash with `shopt -s huponexit`: the option does nothing on `exit`
    /// (shell.c exit_shell wants a login shell too). Only for logout.
    case bashHuponexit = "bash+huponexit"
    /// zsh with `setopt NO_HUP`: it sends its jobs nothing (Src/signals.c killrunjobs).
    case zshNoHup = "zsh+NO_HUP"

    var testDescription: String { rawValue }

    var isInteractive: Bool { self != .bashC }

    /// The command syntax it speaks (scenarios are written per syntax).
    var syntax: ShellUnderTest {
        switch self {
        case .bashLogin, .bashHuponexit: return .bash
        case .zshNoHup: return .zsh
        default: return self
        }
    }

    /// Typed before the scenarios.
    var setup: String? {
        switch self {
        case .bashLogin, .bashHuponexit: return "shopt -s huponexit"
        case .zshNoHup: return "setopt NO_HUP"
        default: return nil
        }
    }

    /// The events it is tested under (huponexit on a plain bash matters only on `exit`).
    var events: [HangupEvent] { self == .bashHuponexit ? [.logout] : HangupEvent.allCases }

    /// bash and zsh: the shells whose job table sessiontop reads from memory.
    var memoryReadable: Bool { syntax == .bash || syntax == .zsh }

    /// argv for an interactive shell with no rc files (job control stays on: interactive).
    var argv: [String] {
        switch self {
        case .bash: return ["bash", "--norc", "--noprofile", "-i"]
        case .zsh: return ["zsh", "-f", "-i"]
        case .fish: return ["fish", "-N", "-P", "-i"]
        case .dash: return ["dash", "-i"]
        case .bashC: return ["bash", "-c"]
        case .bashLogin: return ["bash", "--noprofile", "--norc", "-l", "-i"]
        case .bashHuponexit: return ["bash", "--norc", "--noprofile", "-i"]
        case .zshNoHup: return ["zsh", "-f", "-i"]
        }
    }
}

/// Where a scenario runs: the background batch (every event), or a foreground job (only for
/// hangup and leader-exit: with a foreground job the shell cannot read `exit`).
enum Part: String, CaseIterable, Sendable {
    case background = "bg"
    case foregroundJob = "fg-job"
    case foregroundReader = "fg-reader"
}

struct Scenario: Sendable {
    let name: String
    let part: Part
    /// Waits for a stopped process (state T) with the marker before the snapshot.
    var stops = false
    /// The program ends by itself once its terminal is dead (its read gets EOF/EIO, its write
    /// EIO): an `at-risk` verdict is right for it dead or alive. For every other scenario an
    /// at-risk process must stay alive (a `sleep` never touches its terminal, a `sub {}` handler
    /// does nothing), so a missing signal rule cannot hide behind at-risk.
    var endsOnDeadTerminal = false
    /// The command line for this shell, with `M` the scenario's marker; nil: not applicable.
    let command: @Sendable (ShellUnderTest, String) -> String?
}

enum Scenarios {
    /// Self-stopping process: stops itself, then (once continued) becomes `sleep M`.
    static func stopper(_ m: String) -> String { "sh -c 'kill -STOP $$; exec sleep \(m)'" }

    static let all: [Scenario] = [
        Scenario(name: "background job", part: .background) { _, m in "sleep \(m) &" },
        Scenario(name: "nohup job", part: .background) { _, m in "nohup sleep \(m) &" },
        Scenario(name: "setsid job", part: .background) { _, m in "setsid sleep \(m) &" },
        Scenario(name: "(trap '' HUP; exec cmd) &", part: .background) { sh, m in
            sh == .fish ? "sh -c \"trap '' HUP; exec sleep \(m)\" &" : "(trap '' HUP; exec sleep \(m)) &"
        },
        Scenario(name: "job then disown", part: .background) { sh, m in
            switch sh {
            case .bash, .bashC: return "sleep \(m) & disown $!"
            case .zsh: return "sleep \(m) &!"
            case .fish: return "sleep \(m) &; disown $last_pid"
            case .dash, .bashLogin, .bashHuponexit, .zshNoHup: return nil
            }
        },
        Scenario(name: "job then disown -h", part: .background) { sh, m in
            sh == .bash || sh == .bashC ? "sleep \(m) & disown -h $!" : nil
        },
        Scenario(name: "stopped job", part: .background, stops: true) { _, m in "\(stopper(m)) &" },
        Scenario(name: "stopped job, disowned", part: .background, stops: true) { sh, m in
            switch sh {
            case .bash, .bashC: return "\(stopper(m)) & disown $!"
            case .zsh: return "\(stopper(m)) &!"
            // fish's disown resumes a stopped job: disown it first, let it stop afterwards.
            case .fish: return "sh -c 'sleep 0.5; kill -STOP $$; exec sleep \(m)' &; disown $last_pid"
            case .dash, .bashLogin, .bashHuponexit, .zshNoHup: return nil
            }
        },
        Scenario(name: "stopped job, disown -h", part: .background, stops: true) { sh, m in
            sh == .bash || sh == .bashC ? "\(stopper(m)) & disown -h $!" : nil
        },
        Scenario(name: "stopped nohup job", part: .background, stops: true) { _, m in "nohup \(stopper(m)) &" },
        Scenario(name: "background pipeline", part: .background) { _, m in "sleep \(m) | sleep \(m) &" },
        Scenario(name: "subshell waiting on a grandchild", part: .background) { sh, m in
            sh == .fish ? "sh -c 'sleep \(m); true' &" : "(sleep \(m); true) &"
        },
        Scenario(name: "(cmd &)", part: .background) { sh, m in
            sh == .fish ? "sh -c 'sleep \(m) &'" : "(sleep \(m) &)"
        },
        Scenario(name: "double-forked daemon", part: .background) { sh, m in
            let inner = "setsid sleep \(m) </dev/null >/dev/null 2>&1 &"
            return sh == .fish ? "sh -c '\(inner)'" : "(\(inner))"
        },
        Scenario(name: "HUP handler", part: .background) { _, m in
            "perl -e '$SIG{HUP} = sub {}; sleep 1 while 1; # \(m)' &"
        },
        Scenario(name: "HUP blocked", part: .background) { _, m in
            "perl -MPOSIX -e 'sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGHUP)); sleep 1 while 1; # \(m)' &"
        },
        Scenario(name: "nohup writer to /dev/tty", part: .background, endsOnDeadTerminal: true) { _, m in
            "nohup perl -e 'open(T, \">\", \"/dev/tty\") or die; select(T); $| = 1; while (print T \".\") { select(undef, undef, undef, 0.3) } # \(m)' &"
        },
        Scenario(name: "foreground job", part: .foregroundJob) { sh, m in
            sh == .bashC ? nil : "sleep \(m)"
        },
        Scenario(name: "foreground reader ignoring HUP", part: .foregroundReader, endsOnDeadTerminal: true) { sh, m in
            sh == .bashC ? nil : "perl -e '$SIG{HUP} = \"IGNORE\"; 1 while <STDIN>; # \(m)'"
        },
    ]
}
