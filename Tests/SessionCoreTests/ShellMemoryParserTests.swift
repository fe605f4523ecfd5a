import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// A deterministic generator (SplitMix64) so a failing mutation can be replayed.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
}

/// A small, valid ELF64 executable image: one PT_LOAD, `.dynsym` and its string table.
enum TinyELF {
    static func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> (8 * UInt64($0))) & 0xff) } }

    static func make(_ symbols: [(String, UInt64, UInt64)]) -> [UInt8] {
        var strtab: [UInt8] = [0]
        var nameOffsets: [UInt32] = []
        for (n, _, _) in symbols { nameOffsets.append(UInt32(strtab.count)); strtab += Array(n.utf8) + [0] }
        let strOff = 64 + 56
        var symOff = strOff + strtab.count
        symOff = (symOff + 7) & ~7
        var syms = [UInt8](repeating: 0, count: 24)  // entry 0
        for (i, (_, value, size)) in symbols.enumerated() {
            syms += le(UInt64(nameOffsets[i]), 4) + [0x11, 0] + le(16, 2) + le(value, 8) + le(size, 8)
        }
        let shOff = symOff + syms.count
        let total = shOff + 3 * 64
        var b = [UInt8](repeating: 0, count: total)
        func put(_ at: Int, _ bytes: [UInt8]) { for (k, x) in bytes.enumerated() { b[at + k] = x } }
        put(0, [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1])
        put(16, le(3, 2)); put(18, le(62, 2)); put(20, le(1, 4))
        put(32, le(64, 8)); put(40, le(UInt64(shOff), 8))
        put(52, le(64, 2)); put(54, le(56, 2)); put(56, le(1, 2)); put(58, le(64, 2)); put(60, le(3, 2))
        // PT_LOAD covering the file, plus room for .bss.
        put(64, le(1, 4) + le(5, 4) + le(0, 8) + le(0, 8) + le(0, 8) + le(UInt64(total), 8) + le(UInt64(total) + 0x10000, 8) + le(0x1000, 8))
        put(strOff, strtab)
        put(symOff, syms)
        // [1] .dynsym → link 2; [2] .dynstr.
        put(shOff + 64, le(0, 4) + le(11, 4) + le(2, 8) + le(0, 8) + le(UInt64(symOff), 8) + le(UInt64(syms.count), 8) + le(2, 4) + le(1, 4) + le(8, 8) + le(24, 8))
        put(shOff + 128, le(0, 4) + le(3, 4) + le(2, 8) + le(0, 8) + le(UInt64(strOff), 8) + le(UInt64(strtab.count), 8) + le(0, 4) + le(0, 4) + le(1, 8) + le(0, 8))
        return b
    }
}

@Suite struct ShellMemoryParserTests {
    // MARK: ELF

    @Test func tinyELFRoundTrips() throws {
        let img = try ELFImage.parse(TinyELF.make([("jobs", 0x2000, 8), ("js", 0x3000, 72)]))
        #expect(img.type == 3 && img.machine == 62 && img.loads.count == 1)
        #expect(img.symbols["jobs"]?.value == 0x2000 && img.symbols["js"]?.size == 72)
        let only = try ELFImage.parse(TinyELF.make([("jobs", 0x2000, 8), ("js", 0x3000, 72)]), wanted: ["js"])
        #expect(only.symbols.keys.sorted() == ["js"])
        #expect(img.loadBias(mapStart: 0x5555_0000_0000, mapOffset: 0) == 0x5555_0000_0000)
        #expect(img.loadBias(mapStart: 0x5555_0000_0000, mapOffset: 0x7000) == nil)
    }

    /// The shells installed here, against `nm -D -S` (binutils): every symbol the decoders need
    /// is found with the value and size nm reports.
    @Test(arguments: [("/usr/bin/bash", BashLayout.symbols), ("/usr/bin/zsh", ZshLayout.symbols)])
    func realShellsAgreeWithNm(_ path: String, _ wanted: Set<String>) throws {
        let bytes = try #require(Files.readBytes(path))
        let img = try ELFImage.parse(bytes, wanted: wanted)
        let nm = try Processes.run(["/usr/bin/nm", "-D", "-S", "--defined-only", path])
        try #require(nm.status == 0, "\(nm.stderr)")
        var checked = 0
        for line in nm.stdout.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 4, wanted.contains(String(f[3])) else { continue }
            let sym = try #require(img.symbols[String(f[3])], "\(f[3]) missing")
            #expect(sym.value == UInt64(f[0], radix: 16) && sym.size == UInt64(f[1], radix: 16), "\(line)")
            checked += 1
        }
        #expect(checked == wanted.count, "nm shows \(checked) of \(wanted.sorted())")
    }

    /// Never traps: every truncation of a valid image, and random mutations of it.
    @Test func elfSurvivesTruncationAndMutation() {
        let good = TinyELF.make([("jobs", 0x2000, 8), ("js", 0x3000, 72), ("hup_on_exit", 0x3100, 4)])
        for n in 0..<good.count { _ = try? ELFImage.parse(Array(good.prefix(n))) }
        var rng = SplitMix(state: 0x5e55_1070)
        var parsed = 0
        for _ in 0..<20_000 {
            var b = good
            for _ in 0...rng.below(8) {
                let i = rng.below(b.count)
                switch rng.below(4) {
                case 0: b[i] = UInt8(truncatingIfNeeded: rng.next())
                case 1: b[i] = 0xff
                case 2: b[i] = 0
                default: b[i] ^= 0x80
                }
            }
            if let img = try? ELFImage.parse(b) { parsed += 1; #expect(img.symbols.count <= 3 + 1) }
        }
        #expect(parsed > 0)  // some mutations leave it valid: the parser is not just refusing
        for _ in 0..<2_000 {
            let b = (0..<rng.below(600)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? ELFImage.parse(b)
        }
    }

    @Test func elfErrorsAreNamed() {
        #expect(throws: ELFImage.ParseError.notELF) { try ELFImage.parse(Array("#!/bin/sh\n".utf8) + [UInt8](repeating: 0, count: 80)) }
        var b32 = TinyELF.make([]); b32[4] = 1
        #expect(throws: ELFImage.ParseError.unsupported("32-bit (EI_CLASS 1)")) { try ELFImage.parse(b32) }
        var huge = TinyELF.make([("x", 1, 1)])
        for k in 0..<8 { huge[40 + k] = 0xff }  // e_shoff far outside the file
        #expect(throws: ELFImage.ParseError.malformed("section header 0 outside the file")) { try ELFImage.parse(huge) }
    }

    /// A real executable with random bytes flipped in its headers: never traps.
    @Test func realBashMutatedHeadersNeverTrap() throws {
        let bash = try #require(Files.readBytes("/usr/bin/bash"))
        var rng = SplitMix(state: 42)
        for _ in 0..<40 {
            var b = bash
            for _ in 0..<4 { b[rng.below(4096)] = UInt8(truncatingIfNeeded: rng.next()) }
            let shoff = Int(Bytes(bash).u64(40)!)
            for _ in 0..<4 { let i = shoff + rng.below(bash.count - shoff); b[i] = UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? ELFImage.parse(b, wanted: BashLayout.symbols)
        }
    }

    // MARK: maps

    @Test func mapsLines() {
        let text = """
            559c6395e000-559c6398d000 r--p 00000000 fe:00 253884                     /usr/bin/bash
            559c6398d000-559c63a4e000 r-xp 0002f000 fe:00 253884                     /usr/bin/bash
            559c64b8f000-559c64d14000 rw-p 00000000 00:00 0                          [heap]
            7f0e1c000000-7f0e1c021000 rw-p 00000000 00:00 0 
            7fff5e7d2000-7fff5e7f3000 rw-p 00000000 00:00 0                          [stack]
            55d000000000-55d000001000 r--p 00000000 08:01 12 /tmp/odd name (deleted)
            zz-12 r--p 0 0:0 0 /bad
            1000-0fff r--p 00000000 00:00 0 /reversed
            11111111111111111-2 r--p 0 0:0 0 /overflow
            1000-2000 r--p 00000000 00:00 99999999999999999999999 /inode-overflow
            """
        let m = MapsParser.parse(Array(text.utf8))
        #expect(m.count == 6)
        #expect(m[0].start == 0x559c6395e000 && m[0].offset == 0 && m[0].major == 0xfe && m[0].inode == 253884)
        #expect(m[0].path == Array("/usr/bin/bash".utf8) && m[0].perms == Array("r--p".utf8))
        #expect(m[1].offset == 0x2f000)
        #expect(m[3].path.isEmpty)
        #expect(m[5].path == Array("/tmp/odd name (deleted)".utf8))
        var rng = SplitMix(state: 7)
        for _ in 0..<3_000 {
            var b = Array(text.utf8)
            for _ in 0...rng.below(6) { b[rng.below(b.count)] = UInt8(truncatingIfNeeded: rng.next()) }
            _ = MapsParser.parse(b)
        }
    }

    // MARK: cgroup

    @Test func cgroupLines() {
        #expect(CgroupParser.parse(Array("0::/user.slice/user-1000.slice/session-3.scope\n".utf8))
                == Array("/user.slice/user-1000.slice/session-3.scope".utf8))
        let v1 = "12:pids:/user.slice\n1:name=systemd:/user.slice/user-0.slice/session-c1.scope\n0::/\n"
        #expect(CgroupParser.parse(Array(v1.utf8)) == Array("/".utf8))
        let v1only = "12:pids:/user.slice\n1:name=systemd:/user.slice/user-0.slice/session-c1.scope\n"
        #expect(CgroupParser.parse(Array(v1only.utf8)) == Array("/user.slice/user-0.slice/session-c1.scope".utf8))
        #expect(CgroupParser.parse(Array("garbage".utf8)) == nil)
        #expect(CgroupParser.parse([]) == nil)
    }
}
