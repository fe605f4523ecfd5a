/// Text for people (issue 11): lines wrapped at word boundaries to a width, continuation lines
/// indented under the first word (a hanging indent). Pure; a word longer than the line is cut.
public enum TextWrap {
    /// `text` as lines of at most `width` columns: the first starts with `indent` spaces, the
    /// others with `hang` spaces.
    public static func wrap(_ text: String, width: Int, indent: Int = 0, hang: Int? = nil) -> [String] {
        let hang = hang ?? indent
        // Words with the run of spaces before each (kept inside a line: `1234  sleep`).
        var words: [(gap: Int, word: String)] = []
        var gap = 0
        for piece in text.split(separator: " ", omittingEmptySubsequences: false) {
            if piece.isEmpty { gap += 1; continue }
            words.append((words.isEmpty ? 0 : gap + 1, String(piece)))
            gap = 0
        }
        var lines: [String] = []
        var line = String(repeating: " ", count: indent)
        var used = 0
        func room() -> Int { max(1, width - (lines.isEmpty ? indent : hang)) }
        func breakLine() {
            lines.append(line)
            line = String(repeating: " ", count: hang)
            used = 0
        }
        for (g, word) in words {
            var w = word
            while !w.isEmpty {
                let sep = used == 0 ? 0 : g
                if used + sep + w.count <= room() {
                    line += String(repeating: " ", count: sep) + w
                    used += sep + w.count
                    w = ""
                } else if used == 0 {
                    // Longer than a whole line: cut it.
                    let head = String(w.prefix(room()))
                    line += head
                    w.removeFirst(head.count)
                    used = head.count
                    if !w.isEmpty { breakLine() }
                } else {
                    breakLine()
                }
            }
        }
        if used > 0 || lines.isEmpty { lines.append(line) }
        return lines
    }

    /// Citations in a reason — `(jobs.c hangup_all_jobs)`, `(setsid(2))`, `(tty_jobctrl.c
    /// tty_signal_session_leader)` — taken out of the sentence: the sentence, and the citations.
    public static func splitCitations(_ reason: String) -> (text: String, citations: [String]) {
        var text = ""
        var cites: [String] = []
        var i = reason.startIndex
        while i < reason.endIndex {
            if reason[i] == "(", let close = reason[i...].firstIndex(of: ")") {
                // The innermost parenthesis is enough: citations hold none of their own except
                // a man page section, `setsid(2)`, handled by taking the outer one.
                var end = close
                let inner = reason[reason.index(after: i)..<end]
                if inner.contains("("), let next = reason[reason.index(after: end)...].firstIndex(of: ")") { end = next }
                let body = String(reason[reason.index(after: i)..<end])
                if isCitation(body) {
                    cites.append(body)
                    while text.last == " " { text.removeLast() }
                    i = reason.index(after: end)
                    continue
                }
            }
            text.append(reason[i])
            i = reason.index(after: i)
        }
        return (text, cites)
    }

    /// `setsid(2)`, `proc(5),`: a name, a section digit in parentheses.
    static func isManPage(_ w: Substring) -> Bool {
        var w = w
        while w.last == "," || w.last == ";" { w = w.dropLast() }
        guard w.count >= 4, w.hasSuffix(")"), let open = w.lastIndex(of: "(") else { return false }
        let name = w[..<open]
        let section = w[w.index(after: open)..<w.index(before: w.endIndex)]
        return !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || "_.-".contains($0) }
            && section.count == 1 && section.first!.isNumber
    }

    /// `file.c symbol`, `file.h`, `proc(5)`, `man 2 setsid`: where a claim comes from.
    static func isCitation(_ s: String) -> Bool {
        let words = s.split(separator: " ")
        guard let first = words.first else { return false }
        let sourceFile = first.hasSuffix(".c") || first.hasSuffix(".h") || first.hasSuffix(".c,") || first.hasSuffix(".h,")
        let manPage = words.count <= 3 && isManPage(first)
        return (sourceFile && words.count <= 6) || manPage
    }
}
