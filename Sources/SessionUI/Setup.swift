import SessionCore

/// The setup screen (F2, htop's Setup): which columns the tree and the table show, the refresh
/// interval and colours. Changes apply at once; `s` writes them to
/// `$XDG_CONFIG_HOME/sessiontop/config` (a plain `key = value` file, created only then).
public struct SetupConfig: Equatable, Sendable {
    public var treeColumns: [Column] = Column.treeDefault
    public var tableColumns: [Column] = Column.tableDefault
    public var interval: Double = 1.5
    public var color = true

    public init() {}

    /// The file's text.
    public var text: String {
        """
        # sessiontop setup (F2 in the inspector; written only when you press s there)
        tree_columns = \(treeColumns.map(\.rawValue).joined(separator: ","))
        table_columns = \(tableColumns.map(\.rawValue).joined(separator: ","))
        interval = \(AppState.seconds(interval).dropLast())
        color = \(color ? "yes" : "no")

        """
    }

    /// Reads the file's text (pure; never traps). Unknown keys and bad values are reported,
    /// one line each, and leave the default.
    public static func parse(_ text: String) -> (config: SetupConfig, problems: [String]) {
        var c = SetupConfig()
        var problems: [String] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else { problems.append("line \(n + 1): expected key = value"); continue }
            let key = String(line[..<eq]).trimmingSpaces
            let value = String(line[line.index(after: eq)...]).trimmingSpaces
            func columns() -> [Column]? {
                let names = value.split(separator: ",").map { String($0).trimmingSpaces }
                let cols = names.compactMap(Column.init(rawValue:))
                guard cols.count == names.count, cols.contains(.pid) else { return nil }
                return cols
            }
            switch key {
            case "tree_columns":
                if let cols = columns() { c.treeColumns = cols } else { problems.append("line \(n + 1): bad columns (pid is required): \(value)") }
            case "table_columns":
                if let cols = columns() { c.tableColumns = cols } else { problems.append("line \(n + 1): bad columns (pid is required): \(value)") }
            case "interval":
                if let v = Double(value), v.isFinite, v >= 0.5, v <= 10 { c.interval = v } else { problems.append("line \(n + 1): interval must be 0.5 to 10 seconds") }
            case "color", "colour":
                switch value.lowercased() {
                case "yes", "true", "on", "1": c.color = true
                case "no", "false", "off", "0": c.color = false
                default: problems.append("line \(n + 1): color is yes or no")
                }
            default: problems.append("line \(n + 1): unknown key \(key)")
            }
        }
        return (c, problems)
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}

/// The rows of the setup screen.
enum SetupRow: Hashable {
    case treeColumn(Column)
    case tableColumn(Column)
    case interval
    case color
}

extension AppState {
    var setupRows: [SetupRow] {
        Column.allCases.map { .treeColumn($0) } + Column.allCases.map { .tableColumn($0) } + [.interval, .color]
    }

    public var setupConfig: SetupConfig {
        var c = SetupConfig()
        c.treeColumns = treeColumns
        c.tableColumns = tableColumns
        c.interval = interval
        c.color = color
        return c
    }

    public mutating func apply(_ c: SetupConfig) {
        treeColumns = c.treeColumns
        tableColumns = c.tableColumns
        interval = c.interval
        color = c.color
    }

    mutating func openSetup() {
        setupOpen = true
        setupIndex = 0
        setNote("setup: Space toggles, ← → change, s saves to the config file, Esc closes")
    }

    mutating func setupKey(_ k: Key) -> [Effect] {
        let rows = setupRows
        switch k {
        case .function(10): return [.quit]
        case .escape, .char("q"), .function(2):
            setupOpen = false
            setNote("setup closed (in effect until you quit; s in setup saves it)")
        case .up: setupIndex = max(0, setupIndex - 1)
        case .down, .char("j"): setupIndex = min(rows.count - 1, setupIndex + 1)
        case .home: setupIndex = 0
        case .end: setupIndex = rows.count - 1
        case .char(" "), .enter, .left, .right, .char("+"), .char("-"):
            let step: Double = (k == .left || k == .char("-")) ? -0.5 : 0.5
            switch rows[setupIndex] {
            case .treeColumn(let c): treeColumns = toggled(treeColumns, c, order: Column.treeDefault)
            case .tableColumn(let c): tableColumns = toggled(tableColumns, c, order: Column.tableDefault)
            case .interval: interval = min(10, max(0.5, interval + step))
            case .color: color.toggle()
            }
            refreshRows()
        case .char("s"), .char("w"):
            return [.saveConfig(setupConfig.text)]
        default: break
        }
        return []
    }

    /// Adds or removes a column, keeping the table's order; pid always stays.
    func toggled(_ cols: [Column], _ c: Column, order: [Column]) -> [Column] {
        if c == .pid { return cols }
        if cols.contains(c) { return cols.filter { $0 != c } }
        let rank = Column.allCases
        return (cols + [c]).sorted { rank.firstIndex(of: $0)! < rank.firstIndex(of: $1)! }
    }
}

extension Renderer {
    func drawSetup(_ s: inout Screen, top: Int, height: Int) {
        s.fill(y: top, style: st(.columns))
        putClipped(&s, [(" Setup · ↑↓ move · Space or ← → change · s saves · Esc closes", st(.columns))], x: 0, y: top)
        let rows = state.setupRows
        var lines: [(Int, [Span])] = []
        var section = ""
        for (i, r) in rows.enumerated() {
            let head: String
            let text: [Span]
            let on = state.unicode ? "[x] " : "[x] ", off = "[ ] "
            switch r {
            case .treeColumn(let c):
                head = "Tree columns (the command comes last)"
                text = [((state.treeColumns.contains(c) ? on : off) + pad(c.title, 5) + " " + Self.columnMeaning(c), .plain)]
            case .tableColumn(let c):
                head = "Table columns"
                text = [((state.tableColumns.contains(c) ? on : off) + pad(c.title, 5) + " " + Self.columnMeaning(c), .plain)]
            case .interval:
                head = "Display"
                text = [("refresh every ", .plain), (AppState.seconds(state.interval), st(.headerValue)), ("  (← →: 0.5 s steps; -d on the command line)", st(.dim))]
            case .color:
                text = [("colours ", .plain), (state.color ? "on" : "off", st(.headerValue)), ("  (fates keep their letters without colour)", st(.dim))]
                head = "Display"
            }
            if head != section { lines.append((-1, [(head, st(.title))])); section = head }
            lines.append((i, [("  ", .plain)] + text))
        }
        let body = height - 1
        let selLine = lines.firstIndex { $0.0 == state.setupIndex } ?? 0
        let first = max(0, min(selLine - body / 2, lines.count - body))
        for (n, l) in lines.dropFirst(first).prefix(body).enumerated() {
            let y = top + 1 + n
            putClipped(&s, l.1, x: 1, y: y)
            if l.0 == state.setupIndex { highlight(&s, y: y) }
        }
    }

    static func columnMeaning(_ c: Column) -> String {
        switch c {
        case .pid: return "process id (always shown)"
        case .ppid: return "parent's pid"
        case .pgid: return "process group (job)"
        case .sid: return "session"
        case .user: return "real user"
        case .tty: return "controlling terminal"
        case .state: return "state (R S D T Z)"
        case .cpu: return "CPU over the last interval (utime+stime)"
        case .rss: return "resident memory"
        case .age: return "time since it started"
        case .threads: return "threads"
        }
    }
}
