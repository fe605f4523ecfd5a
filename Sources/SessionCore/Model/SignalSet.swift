/// A set of signals as /proc prints it: bit n-1 stands for signal n (`SigIgn:` etc. in
/// `/proc/<pid>/status`, fs/proc/array.c render_sigset_t).
public struct SignalSet: Hashable, Sendable, SetAlgebra {
    public var mask: UInt64
    public init() { mask = 0 }
    public init(mask: UInt64) { self.mask = mask }
    public init(_ signals: [Int32]) {
        mask = 0
        for s in signals { insert(s) }
    }

    public func contains(_ signal: Int32) -> Bool {
        signal >= 1 && signal <= 64 && mask & (1 << UInt64(signal - 1)) != 0
    }
    @discardableResult
    public mutating func insert(_ signal: Int32) -> (inserted: Bool, memberAfterInsert: Int32) {
        let was = contains(signal)
        if signal >= 1 && signal <= 64 { mask |= 1 << UInt64(signal - 1) }
        return (!was, signal)
    }
    @discardableResult
    public mutating func remove(_ signal: Int32) -> Int32? {
        guard contains(signal) else { return nil }
        mask &= ~(1 << UInt64(signal - 1))
        return signal
    }
    @discardableResult
    public mutating func update(with signal: Int32) -> Int32? {
        let was = contains(signal)
        insert(signal)
        return was ? signal : nil
    }
    public func union(_ other: SignalSet) -> SignalSet { SignalSet(mask: mask | other.mask) }
    public func intersection(_ other: SignalSet) -> SignalSet { SignalSet(mask: mask & other.mask) }
    public func symmetricDifference(_ other: SignalSet) -> SignalSet { SignalSet(mask: mask ^ other.mask) }
    public mutating func formUnion(_ other: SignalSet) { mask |= other.mask }
    public mutating func formIntersection(_ other: SignalSet) { mask &= other.mask }
    public mutating func formSymmetricDifference(_ other: SignalSet) { mask ^= other.mask }
    public var isEmpty: Bool { mask == 0 }

    /// Signal numbers in ascending order.
    public var signals: [Int32] { (1...64).filter { contains(Int32($0)) }.map { Int32($0) } }
    /// Names without the SIG prefix: `HUP`, `INT`, `RTMIN+2`.
    public var names: [String] { signals.map { Signals.name(of: $0) } }
}

/// Signal numbers and names for Linux on x86-64 and arm64 (signal(7)).
public enum Signals {
    public static let hup: Int32 = 1, int: Int32 = 2, quit: Int32 = 3, kill: Int32 = 9
    public static let term: Int32 = 15, cont: Int32 = 18, stop: Int32 = 19, tstp: Int32 = 20
    public static let ttin: Int32 = 21, ttou: Int32 = 22

    static let table: [String] = [
        "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV",
        "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
        "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ]
    /// glibc reserves 32 and 33 for itself; its SIGRTMIN is 34 and SIGRTMAX 64.
    public static let rtMin: Int32 = 34
    public static let rtMax: Int32 = 64

    /// `HUP`, `RTMIN+3`, `RTMAX-1`, or the number for 32/33.
    public static func name(of signal: Int32) -> String {
        if signal >= 1 && signal < Int32(table.count) { return table[Int(signal)] }
        if signal == rtMin { return "RTMIN" }
        if signal == rtMax { return "RTMAX" }
        if signal > rtMin && signal <= (rtMin + rtMax) / 2 { return "RTMIN+\(signal - rtMin)" }
        if signal > rtMin && signal < rtMax { return "RTMAX-\(rtMax - signal)" }
        return String(signal)
    }

    /// Parses `HUP`, `SIGHUP`, `hup`, `1`, `RTMIN+2`, `SIGRTMAX-1`. Nil when unknown.
    public static func number(named raw: String) -> Int32? {
        // `-9` and `-KILL` as kill(1) spells them.
        let text = raw.hasPrefix("-") && raw.count > 1 ? String(raw.dropFirst()) : raw
        if let n = Int32(text) { return (0...64).contains(n) ? n : nil }
        var t = text.uppercased()
        if t.hasPrefix("SIG") { t.removeFirst(3) }
        if let i = table.firstIndex(of: t), i > 0 { return Int32(i) }
        if t == "IOT" { return 6 }
        if t == "POLL" { return 29 }
        if t == "CLD" { return 17 }
        if t == "RTMIN" { return rtMin }
        if t == "RTMAX" { return rtMax }
        if t.hasPrefix("RTMIN+"), let k = Int32(t.dropFirst(6)), rtMin + k <= rtMax { return rtMin + k }
        if t.hasPrefix("RTMAX-"), let k = Int32(t.dropFirst(6)), rtMax - k >= rtMin { return rtMax - k }
        return nil
    }

    /// A one-line meaning, for menus and teaching.
    public static func meaning(of signal: Int32) -> String {
        switch signal {
        case 1: return "hangup: the terminal went away; daemons often reload"
        case 2: return "interrupt: what Ctrl-C sends"
        case 3: return "quit: Ctrl-\\, exits with a core dump"
        case 4: return "illegal instruction: exits with a core dump"
        case 5: return "trace/breakpoint trap (debuggers): core dump"
        case 6: return "abort: exits with a core dump"
        case 7: return "bus error (bad memory access): core dump"
        case 8: return "arithmetic error, e.g. division by zero: core dump"
        case 9: return "kill: cannot be caught or ignored"
        case 10: return "user-defined 1"
        case 11: return "invalid memory reference: core dump"
        case 12: return "user-defined 2"
        case 13: return "broken pipe: a write to a pipe nobody reads"
        case 14: return "alarm clock"
        case 15: return "terminate: the polite request to exit"
        case 16: return "coprocessor stack fault (unused): terminates"
        case 17: return "child stopped or exited"
        case 18: return "continue a stopped process"
        case 19: return "stop: cannot be caught or ignored"
        case 20: return "terminal stop: what Ctrl-Z sends"
        case 21: return "background read from the terminal"
        case 22: return "background write to the terminal"
        case 23: return "urgent data on a socket: ignored by default"
        case 24: return "CPU time limit exceeded: core dump"
        case 25: return "file size limit exceeded: core dump"
        case 26: return "virtual timer expired: terminates"
        case 27: return "profiling timer expired: terminates"
        case 28: return "window size changed"
        case 29: return "I/O possible on an fd (O_ASYNC): terminates"
        case 30: return "power failure: terminates"
        case 31: return "bad system call (seccomp): core dump"
        default: return signal >= rtMin ? "real-time signal: terminates unless handled" : "signal \(signal)"
        }
    }
}
