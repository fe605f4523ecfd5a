import SessionCore

/// What a cell means; the terminal backend maps each role to a colour pair (when colour is on).
public enum Role: UInt8, CaseIterable, Sendable {
    case normal, header, headerValue, columns, selected, dies, atRisk, survives, unaffected
    case session, group, fkey, fkeyLabel, note, new, gone, match, dim, warning, title, tagged
}

/// A cell's look: a role (colour) plus the attributes that also work without colour.
public struct Style: Hashable, Sendable {
    public var role: Role
    public var bold: Bool
    public var reverse: Bool
    public var underline: Bool
    public var dim: Bool

    public init(_ role: Role = .normal, bold: Bool = false, reverse: Bool = false,
                underline: Bool = false, dim: Bool = false) {
        self.role = role
        self.bold = bold
        self.reverse = reverse
        self.underline = underline
        self.dim = dim
    }

    public static let plain = Style()

    /// `dies+bold+reverse`: the attribute layer's vocabulary in golden files.
    public var name: String {
        var s = "\(role)"
        if bold { s += "+bold" }
        if reverse { s += "+reverse" }
        if underline { s += "+underline" }
        if dim { s += "+dim" }
        return s
    }
}

/// One terminal cell: a grapheme (`""` for the right half of a wide character) and its style.
public struct Cell: Hashable, Sendable {
    public var text: String
    public var style: Style
    public init(_ text: String = " ", _ style: Style = .plain) {
        self.text = text
        self.style = style
    }
}

/// Display width of text as a terminal shows it (wcwidth(3) for the common ranges; our own
/// table so that rendering does not depend on the locale).
public enum DisplayWidth {
    public static func of(_ c: Character) -> Int {
        guard let first = c.unicodeScalars.first else { return 0 }
        let v = first.value
        if v < 0x7f { return v < 0x20 ? 0 : 1 }
        if isZeroWidth(first) { return 0 }
        if isWide(v) { return 2 }
        // An emoji presentation selector makes a text-style symbol wide.
        if c.unicodeScalars.contains(where: { $0.value == 0xFE0F }) { return 2 }
        return 1
    }

    public static func of(_ s: String) -> Int {
        var w = 0
        for c in s { w += of(c) }
        return w
    }

    static func isZeroWidth(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return true
        default: return s.value == 0x200B
        }
    }

    /// East Asian Wide/Fullwidth blocks and the emoji planes.
    static func isWide(_ v: UInt32) -> Bool {
        (0x1100...0x115F).contains(v) || (0x2E80...0x303E).contains(v) || (0x3041...0x33FF).contains(v)
            || (0x3400...0x4DBF).contains(v) || (0x4E00...0x9FFF).contains(v) || (0xA000...0xA4CF).contains(v)
            || (0xAC00...0xD7A3).contains(v) || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v)
            || (0xFF00...0xFF60).contains(v) || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1F64F).contains(v)
            || (0x1F900...0x1F9FF).contains(v) || (0x20000...0x3FFFD).contains(v)
    }

    /// The longest prefix of `s` that fits in `width` columns.
    public static func clip(_ s: String, to width: Int) -> String {
        var w = 0
        var out = ""
        for c in s {
            let cw = of(c)
            if w + cw > width { break }
            w += cw
            out.append(c)
        }
        return out
    }
}

/// An in-memory terminal: views draw here; the backend copies it to ncurses; tests compare it
/// with golden files. Writes outside the buffer are clipped, never a crash.
public struct Screen: Equatable, Sendable {
    public private(set) var width: Int
    public private(set) var height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: Cell(), count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    public mutating func clear() {
        for i in cells.indices { cells[i] = Cell() }
    }

    /// Fills a rectangle's style (and blanks it).
    public mutating func fill(y: Int, x: Int = 0, width w: Int? = nil, style: Style) {
        guard y >= 0 && y < height else { return }
        let end = min(width, x + (w ?? width - x))
        var i = max(0, x)
        while i < end { self[i, y] = Cell(" ", style); i += 1 }
    }

    /// Writes `text` at (x, y), clipped at `maxWidth` columns (and the right edge); returns the
    /// column after the last one written. Control characters must already be escaped
    /// (`SafeText.display`); any left are shown as `?`.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: Style = .plain,
                             maxWidth: Int? = nil) -> Int {
        guard y >= 0 && y < height else { return x }
        let limit = min(width, maxWidth.map { x + $0 } ?? width)
        var col = x
        for c in text {
            var ch = c
            var cw = DisplayWidth.of(c)
            if cw == 0 {
                if let scalar = c.unicodeScalars.first, scalar.value < 0x20 || scalar.value == 0x7f {
                    ch = "?"; cw = 1
                } else if col > x, col - 1 < width, col - 1 >= 0 {
                    // A combining mark joins the previous cell's grapheme.
                    var prev = self[col - 1, y]
                    if prev.text.isEmpty, col - 2 >= 0 { prev = self[col - 2, y]; prev.text.append(c); self[col - 2, y] = prev }
                    else { prev.text.append(c); self[col - 1, y] = prev }
                    continue
                } else { continue }
            }
            if col + cw > limit {
                // A wide character that does not fit leaves a blank, not half a glyph.
                if cw == 2 && col < limit && col >= 0 { self[col, y] = Cell(" ", style); col += 1 }
                break
            }
            if col >= 0 {
                self[col, y] = Cell(String(ch), style)
                if cw == 2 { self[col + 1, y] = Cell("", style) }
            }
            col += cw
        }
        return col
    }

    /// One line of text (wide characters' second halves skipped).
    public func line(_ y: Int) -> String {
        var s = ""
        for x in 0..<width { s += self[x, y].text }
        return s
    }

    /// The text layer: one line per row, trailing spaces trimmed.
    public var text: String {
        (0..<height).map { y -> String in
            var l = line(y)
            while l.last == " " { l.removeLast() }
            return l
        }.joined(separator: "\n")
    }

    /// The attribute layer: one letter per cell naming its style (`.` for plain), and a legend.
    public var attributeLayer: String {
        var letters: [Style: Character] = [.plain: "."]
        var order: [Style] = []
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var rows: [String] = []
        for y in 0..<height {
            var row = ""
            for x in 0..<width {
                let st = self[x, y].style
                if letters[st] == nil {
                    letters[st] = alphabet[min(order.count, alphabet.count - 1)]
                    order.append(st)
                }
                row.append(letters[st]!)
            }
            rows.append(row)
        }
        let legend = order.map { "\(letters[$0]!) = \($0.name)" }
        return (legend + ["---"] + rows).joined(separator: "\n")
    }
}
