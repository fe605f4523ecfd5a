/// The parts of an ELF64 little-endian executable the shell-memory reader needs: its type,
/// its PT_LOAD segments (to find the load bias) and the `.dynsym` symbols it exports (the
/// shells' globals: bash `jobs`, `js` …, zsh `jobtab`, `opts` …).
///
/// A pure parser: bytes in, a value or a typed error out. It never traps on any input: every
/// offset and size is overflow-checked and bounds-checked, counts are capped, names are cut.
/// Layout: the System V gABI, "ELF Header", "Program Header", "Section Header", "Symbol Table"
/// (`/usr/include/elf.h` Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr, Elf64_Sym).
public struct ELFImage: Hashable, Sendable {
    /// `e_type`: ET_EXEC (2, fixed addresses) or ET_DYN (3, position independent).
    public var type: UInt16
    /// `e_machine` (62 x86-64, 183 AArch64).
    public var machine: UInt16
    /// PT_LOAD segments in file order.
    public var loads: [Segment]
    /// Defined symbols of `.dynsym`, by name (only the wanted ones when a set was given).
    public var symbols: [String: Symbol]

    public init(type: UInt16, machine: UInt16, loads: [Segment], symbols: [String: Symbol]) {
        self.type = type
        self.machine = machine
        self.loads = loads
        self.symbols = symbols
    }

    public struct Segment: Hashable, Sendable {
        public var offset: UInt64
        public var vaddr: UInt64
        public var fileSize: UInt64
        public var memSize: UInt64
        public var flags: UInt32
    }

    public struct Symbol: Hashable, Sendable {
        public var name: String
        /// `st_value`: the link-time address (add the load bias for ET_DYN).
        public var value: UInt64
        /// `st_size` in bytes: checked against the layouts (bash `js` is 72 bytes).
        public var size: UInt64
        /// `st_info & 0xf`: 1 OBJECT, 2 FUNC.
        public var kind: UInt8

        public init(name: String, value: UInt64, size: UInt64, kind: UInt8) {
            self.name = name
            self.value = value
            self.size = size
            self.kind = kind
        }
    }

    public enum ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        case notELF
        case unsupported(String)
        case malformed(String)
        public var description: String {
            switch self {
            case .notELF: return "not an ELF file"
            case .unsupported(let what): return "unsupported ELF: \(what)"
            case .malformed(let what): return "malformed ELF: \(what)"
            }
        }
    }

    static let ET_EXEC: UInt16 = 2, ET_DYN: UInt16 = 3
    static let PT_LOAD: UInt32 = 1
    static let SHT_DYNSYM: UInt32 = 11, SHT_STRTAB: UInt32 = 3
    /// Caps: no real executable comes near them; they bound the work on hostile input.
    static let maxSegments = 256, maxSections = 65_535, maxSymbols = 1 << 20, maxName = 512

    /// Parses `bytes` (the whole file, or at least everything up to the end of `.dynsym`'s
    /// string table). `wanted`: keep only these names (nil keeps every defined symbol).
    public static func parse(_ bytes: [UInt8], wanted: Set<String>? = nil) throws(ParseError) -> ELFImage {
        let b = Bytes(bytes)
        guard bytes.count >= 64, bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46
        else { throw .notELF }
        guard bytes[4] == 2 else { throw .unsupported("32-bit (EI_CLASS \(bytes[4]))") }
        guard bytes[5] == 1 else { throw .unsupported("big-endian (EI_DATA \(bytes[5]))") }
        guard let type = b.u16(16), let machine = b.u16(18), let phoff = b.u64(32), let shoff = b.u64(40),
              let phentsize = b.u16(54), let phnum = b.u16(56), let shentsize = b.u16(58),
              let shnum = b.u16(60)
        else { throw .malformed("short header") }
        guard type == ET_EXEC || type == ET_DYN else { throw .unsupported("e_type \(type)") }

        // Program headers: the PT_LOAD segments.
        guard phnum > 0, Int(phnum) <= maxSegments else { throw .malformed("e_phnum \(phnum)") }
        guard phentsize >= 56 else { throw .malformed("e_phentsize \(phentsize)") }
        var loads: [Segment] = []
        for i in 0..<UInt64(phnum) {
            guard let at = offset(phoff, i, UInt64(phentsize)), let ptype = b.u32(at),
                  let flags = b.u32(sat(at, 4)), let off = b.u64(sat(at, 8)), let vaddr = b.u64(sat(at, 16)),
                  let filesz = b.u64(sat(at, 32)), let memsz = b.u64(sat(at, 40))
            else { throw .malformed("program header \(i) outside the file") }
            guard ptype == PT_LOAD else { continue }
            guard memsz >= filesz, vaddr.addingReportingOverflow(memsz).overflow == false,
                  off.addingReportingOverflow(filesz).overflow == false
            else { throw .malformed("PT_LOAD \(i) sizes") }
            loads.append(Segment(offset: off, vaddr: vaddr, fileSize: filesz, memSize: memsz, flags: flags))
        }
        guard !loads.isEmpty else { throw .malformed("no PT_LOAD segment") }

        // Section headers: `.dynsym` and the string table it links to.
        guard shnum > 0, Int(shnum) <= maxSections else { throw .malformed("no section headers (e_shnum \(shnum))") }
        guard shentsize >= 64 else { throw .malformed("e_shentsize \(shentsize)") }
        var dynsym: (off: UInt64, size: UInt64, entsize: UInt64, link: UInt32)?
        for i in 0..<UInt64(shnum) {
            guard let at = offset(shoff, i, UInt64(shentsize)), let stype = b.u32(sat(at, 4)) else {
                throw .malformed("section header \(i) outside the file")
            }
            guard stype == SHT_DYNSYM else { continue }
            guard let off = b.u64(sat(at, 24)), let size = b.u64(sat(at, 32)), let link = b.u32(sat(at, 40)),
                  let entsize = b.u64(sat(at, 56))
            else { throw .malformed("section header \(i) outside the file") }
            dynsym = (off, size, entsize, link)
            break
        }
        guard let ds = dynsym else { throw .malformed("no .dynsym section") }
        guard ds.entsize >= 24 else { throw .malformed(".dynsym entry size \(ds.entsize)") }
        guard UInt64(ds.link) < UInt64(shnum), let strAt = offset(shoff, UInt64(ds.link), UInt64(shentsize)),
              b.u32(sat(strAt, 4)) == SHT_STRTAB, let strOff = b.u64(sat(strAt, 24)), let strSize = b.u64(sat(strAt, 32))
        else { throw .malformed(".dynsym's string table") }
        guard b.contains(strOff, strSize) else { throw .malformed("string table outside the file") }
        guard b.contains(ds.off, ds.size) else { throw .malformed(".dynsym outside the file") }
        let count = ds.size / ds.entsize
        guard count <= UInt64(maxSymbols) else { throw .malformed("\(count) symbols") }

        var symbols: [String: Symbol] = [:]
        for i in 1..<max(count, 1) {  // entry 0 is the undefined symbol
            let at = ds.off + i * ds.entsize  // inside .dynsym: checked above
            guard let nameOff = b.u32(at), let info = b.u8(sat(at, 4)), let shndx = b.u16(sat(at, 6)),
                  let value = b.u64(sat(at, 8)), let size = b.u64(sat(at, 16))
            else { throw .malformed("symbol \(i)") }
            guard shndx != 0 else { continue }  // SHN_UNDEF: imported, not ours
            guard UInt64(nameOff) < strSize, let name = b.cString(strOff + UInt64(nameOff),
                                                                  limit: min(strSize - UInt64(nameOff), UInt64(maxName)))
            else { continue }
            if let w = wanted, !w.contains(name) { continue }
            if symbols[name] == nil {
                symbols[name] = Symbol(name: name, value: value, size: size, kind: info & 0xf)
            }
        }
        return ELFImage(type: type, machine: machine, loads: loads, symbols: symbols)
    }

    /// `a + b`, saturating: an offset past the end of any file instead of a wrapped one.
    static func sat(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (s, o) = a.addingReportingOverflow(b)
        return o ? UInt64.max : s
    }

    /// `base + index × size`, nil on overflow.
    static func offset(_ base: UInt64, _ index: UInt64, _ size: UInt64) -> UInt64? {
        let (m, o1) = index.multipliedReportingOverflow(by: size)
        let (s, o2) = base.addingReportingOverflow(m)
        return o1 || o2 ? nil : s
    }

    /// The load bias of a mapping: the mapping of this file that starts at file offset
    /// `mapOffset` lies at `mapStart`; the PT_LOAD segment holding that offset says which
    /// link-time address it carries (`bias = mapStart - (vaddr - (offset - mapOffset))`, page
    /// aligned). nil when no segment holds it or the numbers do not add up.
    public func loadBias(mapStart: UInt64, mapOffset: UInt64) -> UInt64? {
        if type == Self.ET_EXEC { return 0 }
        for s in loads {
            let pageOffset = s.offset & ~0xfff
            guard mapOffset == pageOffset else { continue }
            let pageVaddr = s.vaddr & ~0xfff
            let (bias, o) = mapStart.subtractingReportingOverflow(pageVaddr)
            return o ? nil : bias
        }
        return nil
    }
}

/// Bounds-checked little-endian reads from a byte array.
struct Bytes {
    let a: [UInt8]
    init(_ a: [UInt8]) { self.a = a }

    func contains(_ off: UInt64, _ len: UInt64) -> Bool {
        let (end, o) = off.addingReportingOverflow(len)
        return !o && end <= UInt64(a.count)
    }

    func u8(_ off: UInt64) -> UInt8? { contains(off, 1) ? a[Int(off)] : nil }

    func u16(_ off: UInt64) -> UInt16? {
        guard contains(off, 2) else { return nil }
        let i = Int(off)
        return UInt16(a[i]) | UInt16(a[i + 1]) << 8
    }

    func u32(_ off: UInt64) -> UInt32? {
        guard contains(off, 4) else { return nil }
        let i = Int(off)
        var v: UInt32 = 0
        for k in 0..<4 { v |= UInt32(a[i + k]) << (8 * UInt32(k)) }
        return v
    }

    func u64(_ off: UInt64) -> UInt64? {
        guard contains(off, 8) else { return nil }
        let i = Int(off)
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(a[i + k]) << (8 * UInt64(k)) }
        return v
    }

    /// The NUL-terminated string at `off`, at most `limit` bytes; nil without a NUL in reach
    /// or when it is not UTF-8.
    func cString(_ off: UInt64, limit: UInt64) -> String? {
        guard off < UInt64(a.count) else { return nil }
        let start = Int(off)
        let end = Int(min(UInt64(a.count), ELFImage.sat(off, min(limit, UInt64(a.count)))))
        var i = start
        while i < end {
            if a[i] == 0 { return String(validating: a[start..<i], as: UTF8.self) }
            i += 1
        }
        return nil
    }
}
