import SessionCore

/// Keys of the detail view (Enter on a process): it scrolls, jumps to sections, reads the
/// environment on request and expands the fd list. `k` and `D` still act on the process.
extension AppState {
    /// The document the detail view shows now (the same lines `render` draws).
    func detailDocument() -> (lines: [[Span]], starts: [(DetailSection, Int)]) {
        Renderer(state: self).detailDocument(width: width - 2)
    }

    /// Rows of the document visible at once.
    var detailBodyHeight: Int { max(1, layout.statusY - layout.headerHeight - 1) }

    mutating func openDetailView() {
        detailFull = true
        detailScroll = 0
        fdsExpanded = false
        showEnvironment = false
        environment = nil
    }

    mutating func closeDetailView() {
        detailFull = false
        detailScroll = 0
        clampScroll()
    }

    mutating func clampDetailScroll() {
        let n = detailDocument().lines.count
        detailScroll = max(0, min(detailScroll, n - detailBodyHeight))
    }

    mutating func detailKey(_ k: Key) -> [Effect] {
        let page = max(1, detailBodyHeight - 1)
        switch k {
        case .function(10): return [.quit]
        case .escape, .char("q"), .char("i"), .enter, .backspace: closeDetailView(); return []
        case .up: detailScroll -= 1
        case .down, .char("j"): detailScroll += 1
        case .pageUp: detailScroll -= page
        case .pageDown, .char(" "): detailScroll += page
        case .home, .char("g"): detailScroll = 0
        case .end, .char("G"): detailScroll = Int.max / 2
        case .tab:
            let doc = detailDocument()
            // The next section below the top line; after the last, back to the first.
            detailScroll = doc.starts.first { $0.1 > detailScroll }?.1 ?? 0
        case .char(let c) where c.isASCII && c.isNumber:
            let n = Int(String(c)) ?? 0
            let all = DetailSection.allCases
            guard n >= 1 && n <= all.count else { return [] }
            if let start = detailDocument().starts.first(where: { $0.0 == all[n - 1] })?.1 { detailScroll = start }
        case .char("o"):
            fdsExpanded.toggle()
            if let start = detailDocument().starts.first(where: { $0.0 == .fds })?.1 { detailScroll = start }
        case .char("E"):
            showEnvironment.toggle()
            if let start = detailDocument().starts.first(where: { $0.0 == .environment })?.1 { detailScroll = start }
            if showEnvironment, let p = selectedProcess {
                clampDetailScroll()
                return [.readEnvironment(p.identity)]
            }
        case .char("k"), .function(9):
            if let why = readonlyReason { setNote(why); return [] }
            openSignalMenu()
            return []
        case .char("D"), .function(8):
            if let why = readonlyReason { setNote(why); return [] }
            return detach()
        case .char("?"), .function(1): helpOpen = true; helpScroll = 0
        default: return []
        }
        clampDetailScroll()
        return []
    }
}
