import SessionCore

/// A watched session whose terminal went away while the inspector looked (issue 12 §3): the
/// last prediction it had, next to what the scans since then show.
public struct HungUpSession: Sendable {
    public var sid: Int32
    /// Monotonic time it was noticed; the table settles after `settleSeconds`.
    public var since: Double
    /// Wall-clock time it was noticed, for "hung up at 14:02".
    public var wallTime: Double
    public var table: RealityTable
    public var settled = false
    public static let settleSeconds = 5.0
}

extension AppState {
    /// Sessions whose prediction is kept: the ones shown open, with a terminal.
    var watchedSessions: [Session] {
        // Open in the tree, or holding the row a search revealed (search leaves folds alone).
        let revealedSid = revealed.flatMap { snapshot.process($0.pid)?.sid }
        return snapshot.sessions.filter {
            $0.ttyDevice != 0 && (openSessions.contains($0.sid) || $0.sid == revealedSid) && $0.sid != snapshot.selfSid
        }
    }

    /// What the snapshot shows of each frozen process: alive (same start time, not a zombie)
    /// or dead (how is unknown here: the inspector does not wait for anyone).
    func outcomes(_ f: PredictionFreeze) -> [ProcessIdentity: Reality] {
        var out: [ProcessIdentity: Reality] = [:]
        for e in f.entries {
            if let p = snapshot.process(e.identity.pid), p.startTime == e.identity.startTime, !p.state.isGone {
                out[e.identity] = .alive(stopped: p.state.isStopped)
            } else {
                out[e.identity] = .died
            }
        }
        return out
    }

    /// After each scan (not in the lab): a watched session that lost its terminal (gone, or
    /// living on without one) gets its last prediction compared with what is left; the table
    /// is final after a few seconds, and then logged when it holds a surprise. Then the
    /// predictions of the watched sessions are frozen again for the next scan.
    mutating func trackHangups() -> [Effect] {
        guard lab == nil, !analysisPending else { return [] }
        var effects: [Effect] = []
        for (sid, f) in watchedFreezes where hungUp[sid] == nil {
            let sess = snapshot.session(sid)
            guard sess == nil || sess?.ttyDevice == 0 else { continue }
            hungUp[sid] = HungUpSession(sid: sid, since: now, wallTime: wallClock(),
                                        table: RealityTable(freeze: f, outcomes: outcomes(f), watched: 0))
        }
        for (sid, var h) in hungUp where !h.settled {
            h.table = RealityTable(freeze: h.table.freeze, outcomes: outcomes(h.table.freeze), watched: now - h.since)
            if now - h.since >= HungUpSession.settleSeconds {
                h.settled = true
                if h.table.surprises > 0 { effects.append(.lab(.log(h.table))) }
            }
            hungUp[sid] = h
        }
        var next: [Int32: PredictionFreeze] = [:]
        for s in watchedSessions {
            let v = hangup?.terminal(s.sid, event) ?? [:]
            if let f = PredictionFreeze(snapshot, session: s.sid, event: event, verdicts: v, wallTime: wallClock()) { next[s.sid] = f }
        }
        watchedFreezes = next
        if !hungUp.isEmpty { refreshRows() }
        return effects
    }

    /// Enter on a hung-up session's row shows its table; x dismisses the notice; in the table,
    /// Esc or Enter goes back, ↑↓ scroll. nil: not a hung-up matter.
    mutating func hungUpKey(_ k: Key) -> [Effect]? {
        if let sid = shownHangup {
            switch k {
            case .escape, .enter: shownHangup = nil
            case .char("x"): shownHangup = nil; hungUp[sid] = nil; refreshRows(); setNote("dismissed: session \(sid)")
            case .up: hangupScroll = max(0, hangupScroll - 1)
            case .down, .char("j"): hangupScroll += 1
            case .char("q"), .function(10): return nil
            default: break
            }
            return []
        }
        guard case .session(let sid)? = selectedRow?.key, hungUp[sid] != nil else { return nil }
        switch k {
        case .enter:
            shownHangup = sid
            hangupScroll = 0
            return []
        case .char("x"):
            hungUp[sid] = nil
            refreshRows()
            setNote("dismissed: session \(sid)")
            return []
        default: return nil
        }
    }

    /// "session 812 hung up at 14:02: 4 died as predicted, 1 survived as predicted, 0 surprises".
    public func hungUpLine(_ sid: Int32) -> String? {
        guard let h = hungUp[sid] else { return nil }
        var f = h.table.freeze
        f.wallTime = h.wallTime
        return "session \(sid) hung up at \(f.clockText): \(h.table.summary)"
    }
}

extension Renderer {
    /// The notice on a hung-up session's row (alone: the session is gone, the notice is the row).
    func hungUpSpans(_ sid: Int32, alone: Bool) -> [Span] {
        guard let line = state.hungUpLine(sid), let h = state.hungUp[sid] else { return [] }
        let style = h.table.surprises > 0 ? st(.warning) : st(.note)
        let tail = state.unicode ? " ⏎ table, x dismiss" : " Enter table, x dismiss"
        return [((alone ? "  " : "") + line, style), (tail, st(.dim))]
    }

    /// The inspector's table for a hung-up session, over the list.
    mutating func drawHungUpTable(_ s: inout Screen, sid: Int32) {
        let l = state.layout
        drawHeader(&s)
        guard let h = state.hungUp[sid] else { return }
        drawRealityTable(&s, h.table, top: l.headerHeight, height: l.statusY - l.headerHeight - 2, scroll: state.hangupScroll)
        s.put(state.hungUpLine(sid) ?? "", x: 0, y: l.statusY - 2, style: h.table.surprises > 0 ? st(.warning) : st(.note))
        s.put("what happened is read from the scans: dead or alive, not by which signal · Esc back · x dismiss", x: 0, y: l.statusY - 1, style: st(.dim))
        drawStatus(&s, y: l.statusY)
        drawBar(&s, y: l.barY)
    }
}
