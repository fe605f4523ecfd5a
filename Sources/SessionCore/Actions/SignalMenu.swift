/// What a signal menu offers (the TUI's `k`/F9 and the CLI share it): the common signals first,
/// each with its one-line meaning (`Signals.meaning`), and which ones need a confirmation.
public enum SignalMenu {
    /// In menu order: polite endings first, then job control, then the rest.
    public static let common: [Int32] = [
        Signals.term, Signals.int, Signals.hup, Signals.kill, Signals.quit,
        Signals.stop, Signals.cont, Signals.tstp, 10, 12, 28,
    ]

    /// Every signal 1…64 except 32 and 33 (glibc's own), common ones first.
    public static var all: [Int32] {
        common + (1...64).map { Int32($0) }.filter { !common.contains($0) && $0 != 32 && $0 != 33 }
    }

    /// Signals whose default action ends or stops the process (signal(7) "Term", "Core", "Stop"):
    /// ask before sending. CONT, CHLD, URG, WINCH (default "Ign"/"Cont") and 0 do not.
    public static func needsConfirmation(_ signal: Int32) -> Bool {
        ![0, Signals.cont, 17, 23, 28].contains(signal)
    }
}
