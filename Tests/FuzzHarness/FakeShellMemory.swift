import SessionCore

// Shared by the decoder tests (SessionCoreTests/ShellMemoryDecodeTests) and the `shell-memory`
// fuzz target: the same hand-built images, so the fuzzer starts from memory that decodes.

/// A made-up address space: byte regions at addresses. Reads outside them fail, as an
/// unmapped address does on /proc/<pid>/mem.
public struct FakeMemory: MemorySource {
    public var regions: [(base: UInt64, bytes: [UInt8])] = []

    public init() {}

    public func read(at address: UInt64, count: Int) -> [UInt8]? {
        for r in regions where address >= r.base && address + UInt64(count) <= r.base + UInt64(r.bytes.count) {
            let off = Int(address - r.base)
            return Array(r.bytes[off..<(off + count)])
        }
        return nil
    }

    public mutating func put(_ address: UInt64, _ bytes: [UInt8]) {
        for i in regions.indices where address >= regions[i].base && address + UInt64(bytes.count) <= regions[i].base + UInt64(regions[i].bytes.count) {
            let off = Int(address - regions[i].base)
            regions[i].bytes.replaceSubrange(off..<(off + bytes.count), with: bytes)
            return
        }
        regions.append((address, bytes))
    }

    public mutating func i32(_ address: UInt64, _ v: Int32) { put(address, Self.le(UInt64(UInt32(bitPattern: v)), 4)) }
    public mutating func u64(_ address: UInt64, _ v: UInt64) { put(address, Self.le(v, 8)) }

    static func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> (8 * UInt64($0))) & 0xff) } }
}

/// bash 5.2 and zsh 5.9 as they lie in memory (the layouts of BashLayout/ZshLayout, built by
/// hand), then broken in every way the decoders check.
public enum FakeShell {
    public static func symbols(_ list: [String: (UInt64, UInt64)]) -> SymbolAddresses {
        var syms: [String: ELFImage.Symbol] = [:]
        for (n, (v, s)) in list { syms[n] = ELFImage.Symbol(name: n, value: v, size: s, kind: 1) }
        return SymbolAddresses(image: ELFImage(type: 3, machine: 62, loads: [], symbols: syms), bias: 0x5500_0000_0000)
    }

    public static let base: UInt64 = 0x5500_0000_0000

    /// bash $$=100 with %1 = group 300 (one process, running) and %3 = group 500 (two
    /// processes, stopped, disown -h); slots 2 and 4-8 empty.
    public static func bash(version: String = "5.2", njobs: Int32 = 2) -> (FakeMemory, SymbolAddresses) {
        let s = symbols([
            "dist_version": (0x1000, 8), "patch_level": (0x1010, 4), "hup_on_exit": (0x1020, 4),
            "login_shell": (0x1024, 4), "interactive_shell": (0x1028, 4), "job_control": (0x102c, 4),
            "dollar_dollar_pid": (0x1030, 4), "trap_list": (0x1100, 0x220), "initialize_traps": (0x9000, 100),
            "js": (0x2000, 72), "jobs": (0x2100, 8),
        ])
        var m = FakeMemory()
        m.put(base + 0x1000, [UInt8](repeating: 0, count: 0x1400))  // globals page
        m.u64(base + 0x1000, base + 0x1200)                             // dist_version → "5.2"
        m.put(base + 0x1200, Array(version.utf8) + [0])
        m.i32(base + 0x1010, 15)
        m.i32(base + 0x1020, 1)                                         // huponexit on
        m.i32(base + 0x1028, 1)                                         // interactive
        m.i32(base + 0x102c, 1)                                         // job control
        m.i32(base + 0x1030, 100)
        // js: j_jobslots 8, j_njobs, j_ndead 0.
        m.i32(base + 0x2000 + 28, 8)
        m.i32(base + 0x2000 + 40, njobs)
        let heap: UInt64 = 0x7f00_0000_0000
        m.put(heap, [UInt8](repeating: 0, count: 0x1000))
        m.u64(base + 0x2100, heap)                                      // jobs → array of 8
        m.u64(heap + 0, heap + 0x100)                                   // jobs[0] = %1
        m.u64(heap + 16, heap + 0x200)                                  // jobs[2] = %3
        // %1: pipe → one PROCESS pointing at itself; pgrp 300, JRUNNING, flags 0.
        m.u64(heap + 0x100 + 8, heap + 0x400)
        m.i32(heap + 0x100 + 16, 300); m.i32(heap + 0x100 + 20, 1); m.i32(heap + 0x100 + 24, 0)
        m.u64(heap + 0x400, heap + 0x400); m.i32(heap + 0x408, 300); m.i32(heap + 0x410, 1)
        // %3: two stopped PROCESSes in a ring; pgrp 500, JSTOPPED, J_NOHUP.
        m.u64(heap + 0x200 + 8, heap + 0x500)
        m.i32(heap + 0x200 + 16, 500); m.i32(heap + 0x200 + 20, 2); m.i32(heap + 0x200 + 24, 0x08)
        m.u64(heap + 0x500, heap + 0x540); m.i32(heap + 0x508, 500); m.i32(heap + 0x50c, 0x137f); m.i32(heap + 0x510, 2)
        m.u64(heap + 0x540, heap + 0x500); m.i32(heap + 0x548, 501); m.i32(heap + 0x54c, 0x137f); m.i32(heap + 0x550, 2)
        return (m, s)
    }

    /// zsh 5.9, mypid 100, NO_HUP unless `hup`; %1 = group 300 running, %2 = group 400 stopped.
    public static func zsh(version: String = "5.9", hup: Bool = true, maxjob: Int32 = 2) -> (FakeMemory, SymbolAddresses) {
        let s = symbols([
            "jobtab": (0x1000, 8), "jobtabsize": (0x1008, 4), "maxjob": (0x100c, 4), "thisjob": (0x1010, 4),
            "opts": (0x1100, 186), "mypid": (0x1020, 8), "realparamtab": (0x1030, 8), "sigtrapped": (0x1200, 136),
        ])
        var m = FakeMemory()
        m.put(base + 0x1000, [UInt8](repeating: 0, count: 0x400))
        var opts = [UInt8](repeating: 0, count: 186)
        opts[ZshLayout.optINTERACTIVE] = 1; opts[ZshLayout.optMONITOR] = 1; opts[ZshLayout.optHUP] = hup ? 1 : 0
        m.put(base + 0x1100, opts)
        m.u64(base + 0x1020, 100)
        m.i32(base + 0x1008, 16); m.i32(base + 0x100c, maxjob); m.i32(base + 0x1010, -1)
        let heap: UInt64 = 0x7f00_0000_0000
        m.put(heap, [UInt8](repeating: 0, count: 0x2000))
        // Parameter table: 8 buckets; ZSH_VERSION in its bucket, behind another node.
        m.u64(base + 0x1030, heap)
        m.i32(heap, 8); m.u64(heap + 8, heap + 0x100)
        let bucket = UInt64(ZshLayout.hasher("ZSH_VERSION") % 8)
        m.u64(heap + 0x100 + bucket * 8, heap + 0x200)
        m.u64(heap + 0x200, heap + 0x300); m.u64(heap + 0x208, heap + 0x280)     // node "PATH" → next
        m.put(heap + 0x280, Array("PATH".utf8) + [0])
        m.u64(heap + 0x308, heap + 0x380); m.u64(heap + 0x318, heap + 0x3c0)     // node ZSH_VERSION, u.str
        m.put(heap + 0x380, Array("ZSH_VERSION".utf8) + [0])
        m.put(heap + 0x3c0, Array(version.utf8) + [0])
        // jobtab at heap+0x1000, 64-byte entries; STAT_INUSE|STAT_LOCKED (+STAT_STOPPED).
        m.u64(base + 0x1000, heap + 0x1000)
        m.i32(heap + 0x1040, 300); m.i32(heap + 0x1048, 0x50); m.u64(heap + 0x1058, heap + 0x1800)
        m.i32(heap + 0x1080, 400); m.i32(heap + 0x1088, 0x52); m.u64(heap + 0x1098, heap + 0x1900)
        m.i32(heap + 0x1808, 300); m.i32(heap + 0x1800 + 92, -1)
        m.i32(heap + 0x1908, 400); m.i32(heap + 0x1900 + 92, 0x137f)
        return (m, s)
    }
}

