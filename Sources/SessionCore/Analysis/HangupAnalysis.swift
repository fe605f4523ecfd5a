/// Predicts who dies when a terminal hangs up. A pure function of a snapshot: no I/O.
/// The kernel and shell facts behind it, with sources: ../shared/hangup-semantics.md.
public enum HangupAnalysis {
    /// The verdict for every process in the snapshot, for `event` happening to session `sid`.
    /// Processes outside the session are `unaffected` unless they hold fds on its terminal.
    public static func analyze(_ snapshot: Snapshot, session sid: Int32, event: HangupEvent) -> [Int32: Verdict] {
        // Placeholder until the analysis lands (issue 3).
        var out: [Int32: Verdict] = [:]
        for (pid, p) in snapshot.processes where p.sid == sid {
            out[pid] = Verdict(fate: .unaffected, certain: false, reasons: ["not analysed yet"])
        }
        return out
    }
}
