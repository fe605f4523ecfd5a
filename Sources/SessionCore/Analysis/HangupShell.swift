/// Which shell leads a session, and how it was started: what decides whether it forwards
/// SIGHUP to its jobs (../shared/hangup-semantics.md, "The shells").
public struct ShellProfile: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        case bash, zsh, fish, dash
        /// Not a shell we know the rules of (or `sh` of unknown lineage): it forwards nothing
        /// we can vouch for.
        case other
    }

    public var kind: Kind
    /// The program's name as shown in reasons (`bash`, `zsh`, `vim`).
    public var name: String
    /// Reads commands from the terminal with job control (`-i`, or no `-c` and no script).
    public var interactive: Bool
    /// `argv[0]` starts with `-`, or `--login`/`-l`.
    public var login: Bool
    /// Why we think so, for the reasons: "argv `bash -i --norc`: interactive".
    public var evidence: String

    /// Reads the leader's exe (symlinks resolved: /bin/sh → dash), else its comm, and its argv.
    public static func detect(_ p: ProcessInfo) -> ShellProfile {
        var name = p.commText
        if let exe = p.exe.value, !exe.isEmpty {
            var base = exe
            if let slash = base.lastIndex(of: UInt8(ascii: "/")) { base = Array(base[(slash + 1)...]) }
            if base.count > 10, Array(base.suffix(10)) == Array(" (deleted)".utf8) { base.removeLast(10) }
            name = SafeText.display(base)
        }
        let kind: Kind
        switch name {
        case "bash", "rbash": kind = .bash
        case "zsh": kind = .zsh
        case "fish": kind = .fish
        case "dash", "ash", "busybox": kind = .dash
        default:
            // comm may say more than exe (a renamed binary): accept a known comm too.
            switch p.commText {
            case "bash", "-bash": kind = .bash
            case "zsh", "-zsh": kind = .zsh
            case "fish", "-fish": kind = .fish
            case "dash", "-dash": kind = .dash
            default: kind = .other
            }
        }
        let argv = p.argv.value ?? []
        let words = argv.map { SafeText.display($0) }
        var login = words.first?.hasPrefix("-") ?? p.commText.hasPrefix("-")
        var interactive = false
        var command = false
        var script = false
        var i = 1
        scan: while i < words.count {
            let w = words[i]
            switch w {
            case "--": break scan
            case "--login": login = true
            case "--interactive": interactive = true
            case "--command": command = true
            case "--rcfile", "--init-file", "-o", "+o", "-O", "+O", "-C", "--init-command":
                i += 1
            default:
                if w.hasPrefix("--") { break }
                if w.hasPrefix("-") || w.hasPrefix("+") {
                    if w.count == 1 { break }
                    if w.hasPrefix("-") {
                        for ch in w.dropFirst() {
                            if ch == "c" { command = true }
                            if ch == "i" { interactive = true }
                            if ch == "l" { login = true }
                        }
                    }
                } else {
                    if !command { script = true }
                    break scan
                }
            }
            i += 1
        }
        if !command && !script { interactive = true }
        let shown = words.isEmpty ? "[\(p.commText)]" : words.joined(separator: " ")
        var ev = "argv `\(shown)`: " + (interactive ? "interactive" : (command ? "runs a -c command" : "runs a script"))
        if login { ev += ", login shell" }
        return ShellProfile(kind: kind, name: name, interactive: interactive, login: login, evidence: ev)
    }
}
