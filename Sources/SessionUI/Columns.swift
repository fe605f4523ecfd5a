import SessionCore

/// A column of the process rows (the command always comes last and takes the rest).
public enum Column: String, CaseIterable, Sendable {
    case pid, ppid, pgid, sid, user, tty, state, cpu, rss, age, threads

    public var title: String {
        switch self {
        case .pid: return "PID"
        case .ppid: return "PPID"
        case .pgid: return "PGID"
        case .sid: return "SID"
        case .user: return "USER"
        case .tty: return "TTY"
        case .state: return "S"
        case .cpu: return "CPU%"
        case .rss: return "RSS"
        case .age: return "AGE"
        case .threads: return "THR"
        }
    }

    public var width: Int {
        switch self {
        case .pid, .ppid, .pgid, .sid, .tty: return 7
        case .user: return 8
        case .state: return 1
        case .cpu: return 5
        case .rss: return 6
        case .age: return 5
        case .threads: return 4
        }
    }

    var rightAligned: Bool { ![.user, .tty, .state].contains(self) }

    /// Which column goes first when the screen is narrow (higher goes first). The ids this
    /// tool exists for (pid, pgid, sid) and the user stay longest.
    var dropRank: Int {
        switch self {
        case .pid: return 0
        case .state: return 1
        case .pgid: return 2
        case .sid: return 3
        case .user: return 4
        case .cpu: return 5
        case .tty: return 6
        case .ppid: return 7
        case .rss: return 8
        case .age: return 9
        case .threads: return 10
        }
    }

    /// The sort key that orders by this column.
    public var sortKey: SortKey {
        switch self {
        case .pid: return .pid
        case .ppid: return .ppid
        case .pgid: return .pgid
        case .sid: return .sid
        case .user: return .user
        case .tty: return .tty
        case .state: return .pid
        case .cpu: return .cpu
        case .rss: return .rss
        case .age: return .start
        case .threads: return .threads
        }
    }

    public static let treeDefault: [Column] = [.pid, .user, .state, .cpu, .rss, .age]
    public static let tableDefault: [Column] = [.pid, .ppid, .pgid, .sid, .user, .tty, .state, .cpu, .rss, .age, .threads]

    /// The columns that fit `width` with at least `minCommand` columns left for the command
    /// (a fate mark of 2 columns comes first; one space after each column).
    /// Columns taken before the command: the fate mark, then each column and a space.
    public static func usedWidth(_ c: [Column]) -> Int { 2 + c.reduce(0) { $0 + $1.width + 1 } }

    public static func fitting(_ wanted: [Column], width: Int, minCommand: Int) -> [Column] {
        var cols = wanted
        while usedWidth(cols) > width - minCommand, let worst = cols.max(by: { $0.dropRank < $1.dropRank }), worst != .pid {
            cols.removeAll { $0 == worst }
        }
        return cols
    }
}

/// Human figures for the columns: `12.5M`, `3h05`, ` 0.0`.
enum Figures {
    /// Bytes in K/M/G with at most 5 characters (`999K`, `12.5M`, `1.2G`), as htop shows RES.
    static func bytes(_ b: Int64) -> String {
        if b == .max || b < 0 { return "?" }
        let k = Double(b) / 1024
        if k < 1000 { return "\(Int(k.rounded()))K" }
        let m = k / 1024
        if m < 100 { return oneDecimal(m) + "M" }
        if m < 1000 { return "\(Int(m.rounded()))M" }
        let g = m / 1024
        return g < 100 ? oneDecimal(g) + "G" : "\(Int(g.rounded()))G"
    }

    static func oneDecimal(_ v: Double) -> String {
        let t = Int((v * 10).rounded())
        return "\(t / 10).\(t % 10)"
    }

    /// A CPU share in percent, one decimal (`-` before the second scan).
    static func percent(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "-" }
        return v >= 1000 ? "\(Int(v.rounded()))" : oneDecimal(max(0, v))
    }

    /// An age: `45s`, `12m`, `3h05`, `2d04`, `123d`.
    static func age(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" }
        if s < 86400 { return "\(s / 3600)h" + two((s % 3600) / 60) }
        if s < 100 * 86400 { return "\(s / 86400)d" + two((s % 86400) / 3600) }
        return "\(s / 86400)d"
    }

    static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}

/// The F-bar (htop's), shortened to fit: full labels padded as htop pads them, then one
/// space apart, then short labels, then keys alone; F10 is always there.
public struct FunctionBar {
    public struct Item: Equatable { public var n: Int; public var x: Int; public var width: Int; public var key: String; public var label: String }

    public static let labels: [(full: String, short: String)] = [
        ("Help", "Help"), ("Setup", "Set"), ("Search", "Find"), ("Filter", "Filt"), ("Tree", "Tree"),
        ("SortBy", "Sort"), ("Event", "Evt"), ("Detach", "Det"), ("Signal", "Sig"), ("Quit", "Quit"),
    ]
    /// One step shorter than htop's labels: exactly 80 columns one space apart.
    static let compact = ["Help", "Setup", "Search", "Filter", "Tree", "Sort", "Event", "Detach", "Signal", "Quit"]

    public static func layout(width: Int) -> [Item] {
        func build(_ label: (Int) -> String, pad: (String) -> Int) -> [Item] {
            var x = 0
            var out: [Item] = []
            for n in 1...10 {
                let l = label(n - 1)
                let w = "F\(n)".count + l.count + pad(l)
                out.append(Item(n: n, x: x, width: w, key: "F\(n)", label: l))
                x += w
            }
            return out
        }
        let tries: [[Item]] = [
            build({ labels[$0].full }, pad: { max(1, 7 - $0.count) }),
            build({ compact[$0] }, pad: { _ in 1 }),
            build({ labels[$0].short }, pad: { _ in 1 }),
            build({ labels[$0].short }, pad: { _ in 0 }),
            build({ _ in "" }, pad: { _ in 1 }),
        ]
        for t in tries {
            // The last item's trailing space may fall off the edge.
            if let last = t.last, last.x + last.key.count + last.label.count <= width { return t }
        }
        return tries.last!
    }
}
