@preconcurrency import CCurses
#if canImport(Glibc)
import Glibc
#endif

/// The one file that talks to ncurses: copies a `Screen` to the terminal and turns input into
/// `AppEvent`s. Views never call ncurses.
final class Terminal {
    enum StartError: Error { case unknownTerminal }

    let color: Bool
    let utf8: Bool
    private var shown: Screen?
    private var stopped = false

    /// Terminal type → colour pairs, indexed by `Role.rawValue` (pair = raw + 1).
    private static let palette: [Role: (Int16, Int16)] = [
        .normal: (-1, -1), .header: (-1, -1), .headerValue: (6, -1), .columns: (0, 2),
        .selected: (0, 6), .dies: (1, -1), .atRisk: (3, -1), .survives: (2, -1), .unaffected: (-1, -1),
        .session: (6, -1), .group: (5, -1), .fkey: (-1, -1), .fkeyLabel: (0, 6), .note: (3, -1),
        .new: (0, 2), .gone: (7, 1), .match: (0, 3), .dim: (-1, -1), .warning: (1, -1), .title: (-1, -1),
        .tagged: (3, -1),  // htop's tagged rows: yellow
    ]

    init(term: String, wantColor: Bool) throws(StartError) {
        let r = term.withCString { cc_start($0, wantColor ? 1 : 0) }  // setlocale, then newterm
        if r < 0 { throw .unknownTerminal }
        utf8 = cc_locale_is_utf8() != 0
        color = r == 1
        if color {
            var fg: [Int16] = [], bg: [Int16] = []
            for role in Role.allCases {
                let p = Self.palette[role] ?? (-1, -1)
                fg.append(p.0)
                bg.append(p.1)
            }
            cc_init_pairs(fg, bg, Int32(fg.count))
        }
    }

    var size: (width: Int, height: Int) { (Int(cc_cols()), Int(cc_lines())) }

    func stop() {
        guard !stopped else { return }
        stopped = true
        cc_stop()
    }

    func attributes(_ s: Style) -> UInt32 {
        var a: UInt32 = 0
        if color { a |= cc_color_pair(Int32(s.role.rawValue) + 1) }
        if s.bold { a |= cc_attr_bold() }
        if s.reverse { a |= cc_attr_reverse() }
        if s.underline { a |= cc_attr_underline() }
        if s.dim || (color && (s.role == .dim)) { a |= cc_attr_dim() }
        return a
    }

    /// Copies the rows that changed since the last frame.
    func draw(_ screen: Screen) {
        let full = shown.map { $0.width != screen.width || $0.height != screen.height } ?? true
        if full { cc_clear_all() }
        var buf: [Int32] = []
        buf.reserveCapacity(screen.width * 2)
        for y in 0..<screen.height {
            if !full, let old = shown, rowEqual(old, screen, y) { continue }
            var x = 0
            var runStart = 0
            var runStyle = screen.width > 0 ? screen[0, y].style : .plain
            buf.removeAll(keepingCapacity: true)
            func flush() {
                if !buf.isEmpty { cc_draw(Int32(y), Int32(runStart), buf, Int32(buf.count), attributes(runStyle)) }
                buf.removeAll(keepingCapacity: true)
            }
            while x < screen.width {
                let cell = screen[x, y]
                if cell.style != runStyle { flush(); runStart = x; runStyle = cell.style }
                if cell.text.isEmpty { x += 1; if buf.isEmpty { runStart = x }; continue }
                for u in cell.text.unicodeScalars {
                    if utf8 { buf.append(Int32(bitPattern: u.value)) } else { buf.append(u.value < 0x80 ? Int32(u.value) : 0x3F) }
                    if !utf8 { break }
                }
                x += 1
            }
            flush()
        }
        cc_refresh()
        shown = screen
    }

    private func rowEqual(_ a: Screen, _ b: Screen, _ y: Int) -> Bool {
        for x in 0..<b.width where a[x, y] != b[x, y] { return false }
        return true
    }

    /// Every input waiting now (non-blocking).
    func readEvents() -> [AppEvent] {
        var out: [AppEvent] = []
        var code: Int32 = 0, mx: Int32 = 0, my: Int32 = 0
        var bstate: UInt = 0
        while true {
            let kind = cc_read(&code, &mx, &my, &bstate)
            if kind == 0 { break }
            if kind == 3 {
                let b = UInt(bstate)
                if b & UInt(cc_button4_pressed()) != 0 { out.append(.mouse(.wheelUp)) }
                else if b & UInt(cc_button5_pressed()) != 0 { out.append(.mouse(.wheelDown)) }
                else if b & UInt(cc_button1_pressed() | cc_button1_clicked()) != 0 {
                    out.append(.mouse(.click(x: Int(mx), y: Int(my))))
                }
                continue
            }
            if kind == 2 {
                if code == KEY_RESIZE { let s = size; out.append(.resize(width: s.width, height: s.height)); continue }
                if let k = Self.key(code) { out.append(.key(k)) }
                continue
            }
            switch code {
            case 10, 13: out.append(.key(.enter))
            case 27: out.append(.key(.escape))
            case 9: out.append(.key(.tab))
            case 8, 127: out.append(.key(.backspace))
            case 12:  // Ctrl-L: repaint everything, and scan now (as r)
                shown = nil
                let s = size
                out.append(.resize(width: s.width, height: s.height))
                out.append(.key(.char("\u{0C}")))
            default:
                if code >= 32, let u = Unicode.Scalar(UInt32(code)) { out.append(.key(.char(Character(u)))) }
            }
        }
        return out
    }

    static func key(_ code: Int32) -> Key? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_ENTER: return .enter
        case KEY_BACKSPACE: return .backspace
        default:
            for n in 1...12 where code == cc_key_f(Int32(n)) { return .function(n) }
            return nil
        }
    }
}
