#if canImport(Glibc)
import Glibc
#endif

/// Reads a bash or zsh session leader's job state from its memory, read-only and without
/// stopping it: the symbols of `/proc/<pid>/exe` (`.dynsym`, parsed by ELFImage), the load
/// bias from `/proc/<pid>/maps`, the bytes with `pread` on `/proc/<pid>/mem` — all opened
/// through the pid's directory fd, so a recycled pid is never read. Opening `mem` needs the
/// same right as ptrace (PTRACE_MODE_ATTACH: root, or the same user where Yama's
/// `ptrace_scope` allows it) but attaches nothing. What it returns is checked against the
/// snapshot (ShellViewCheck) before the analysis may use it.
public final class ShellMemoryReader {
    let proc: ProcReader
    /// Parsed executables by identity (device, inode, size, mtime): a shell binary is parsed
    /// once, not on every scan.
    private var images: [ExeKey: Result<ELFImage, ELFImage.ParseError>] = [:]
    /// Executables larger than this are not read (bash is 1.3 MB, zsh 0.9 MB).
    public static let maxExecutableSize = 64 << 20

    struct ExeKey: Hashable { var dev: UInt64, ino: UInt64, size: Int64, mtime: Int64, mtimeNsec: Int }

    public init(proc: ProcReader) { self.proc = proc }

    /// Reads and checks the shell leading every session with a terminal whose leader is bash
    /// or zsh; by leader pid.
    public func readLeaders(of snapshot: Snapshot) -> [Int32: ShellMemory] {
        var out: [Int32: ShellMemory] = [:]
        for s in snapshot.sessions where s.ttyDevice != 0 {
            guard let lpid = s.leader, let leader = snapshot.processes[lpid] else { continue }
            let profile = ShellProfile.detect(leader)
            let kind: ShellView.Shell
            switch profile.kind {
            case .bash: kind = .bash
            case .zsh: kind = .zsh
            default: continue
            }
            switch read(leader, kind: kind) {
            case .failure(let why):
                out[lpid] = .unavailable(why.description)
            case .success(let view):
                if let mismatch = ShellViewCheck.mismatch(view, leader: leader, profile: profile, snapshot: snapshot) {
                    out[lpid] = ShellMemory(view: view, trusted: false, reason: mismatch)
                } else {
                    out[lpid] = ShellMemory(view: view, trusted: true, reason: nil)
                }
            }
        }
        return out
    }

    /// For forks of a bash/zsh session leader (same program and argv: a `$( … )` or a
    /// subshell) that catch SIGHUP: whether a `trap … HUP` of its own is set, by pid. Without one
    /// the handler is the shell's own, which exits (bash sig.c termsig_sighandler → kill_shell,
    /// zsh Src/signals.c zhandler → zexit). Unreadable forks are left out.
    public func readForkTraps(of snapshot: Snapshot) -> [Int32: Bool] {
        var out: [Int32: Bool] = [:]
        for s in snapshot.sessions where s.ttyDevice != 0 {
            guard let lpid = s.leader, let leader = snapshot.processes[lpid], let exe = leader.exe.value,
                  let argv = leader.argv.value else { continue }
            let kind: ShellView.Shell
            switch ShellProfile.detect(leader).kind {
            case .bash: kind = .bash
            case .zsh: kind = .zsh
            default: continue
            }
            for g in s.groups {
                for pid in g.members where pid != lpid {
                    guard let p = snapshot.processes[pid], p.signals.caught.contains(Signals.hup), !p.state.isGone,
                          p.exe.value == exe, p.argv.value == argv else { continue }
                    if case .success(let trapped) = withMemory(p, kind: kind, { m, s in
                        kind == .bash ? BashLayout.hupTrapped(m, symbols: s) : ZshLayout.hupTrapped(m, symbols: s)
                    }) { out[pid] = trapped }
                }
            }
        }
        return out
    }

    /// Decodes one shell's memory (no check against /proc: see `readLeaders`).
    public func read(_ p: ProcessInfo, kind: ShellView.Shell) -> Result<ShellView, DecodeFailure> {
        withMemory(p, kind: kind) { m, s in
            kind == .bash ? BashLayout.decode(m, symbols: s) : ZshLayout.decode(m, symbols: s)
        }
    }

    /// Opens `p`'s executable, memory map and memory (checking it is still the process the
    /// snapshot saw) and hands the memory and the symbol addresses to `body`.
    func withMemory<T>(_ p: ProcessInfo, kind: ShellView.Shell,
                       _ body: (MemorySource, SymbolAddresses) -> Result<T, DecodeFailure>) -> Result<T, DecodeFailure> {
        guard case .success(let dir) = proc.openProcess(p.pid) else { return .failure(DecodeFailure("it exited while being read")) }
        defer { close(dir) }
        // The same process the snapshot saw (the dir fd pins it; the start time proves it).
        guard case .success(let st?) = proc.read(dirfd: dir, "stat", { try? StatParser.parse($0) }),
              st.startTime == p.startTime
        else { return .failure(DecodeFailure("it exited while being read")) }

        let image: ELFImage
        let exeStat: stat
        switch executable(dir) {
        case .failure(let e):
            if e.meansDenied { return .failure(DecodeFailure(permissionReason(what: "its executable and memory"))) }
            return .failure(DecodeFailure("cannot read its executable (\(e.message))"))
        case .success(let (st, parsed)):
            exeStat = st
            switch parsed {
            case .failure(let why): return .failure(DecodeFailure("its executable: \(why)"))
            case .success(let img): image = img
            }
        }
        let needed = kind == .bash ? BashLayout.symbols : ZshLayout.symbols
        if needed.subtracting(image.symbols.keys).count == needed.count {
            return .failure(DecodeFailure("its executable exports none of \(kind.rawValue)'s job-table symbols (a static or stripped build)"))
        }

        // The load bias: the mapping of this very file (device and inode, or the path).
        let maps: [Mapping]
        switch proc.read(dirfd: dir, "maps", { MapsParser.parse($0) }) {
        case .success(let m): maps = m
        case .failure(let e):
            if e.meansDenied { return .failure(DecodeFailure(permissionReason(what: "its memory map"))) }
            return .failure(DecodeFailure("cannot read its memory map (\(e.message))"))
        }
        let exePath = (try? proc.readLink(dirfd: dir, "exe").get()) ?? []
        let dev = TTYDrivers.split(UInt64(exeStat.st_dev))
        let mine = maps.filter {
            ($0.inode == UInt64(exeStat.st_ino) && $0.major == dev.major && $0.minor == dev.minor)
                || (!exePath.isEmpty && $0.path == exePath)
        }
        guard let bias = mine.sorted(by: { $0.start < $1.start })
            .lazy.compactMap({ image.loadBias(mapStart: $0.start, mapOffset: $0.offset) }).first
        else { return .failure(DecodeFailure("its memory map shows no mapping of its executable")) }
        let symbols = SymbolAddresses(image: image, bias: bias)

        let mem = openat(dir, "mem", O_RDONLY | O_CLOEXEC)
        guard mem >= 0 else {
            let e = Errno.current
            if e.meansDenied { return .failure(DecodeFailure(permissionReason(what: "its memory"))) }
            return .failure(DecodeFailure("cannot open its memory (\(e.message))"))
        }
        defer { close(mem) }
        return body(FileMemory(fd: mem), symbols)
    }

    /// The executable's stat and its parsed image (cached by identity).
    private func executable(_ dir: Int32) -> Result<(stat, Result<ELFImage, ELFImage.ParseError>), Errno> {
        let fd = openat(dir, "exe", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.current) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .failure(.current) }
        let key = ExeKey(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino), size: Int64(st.st_size),
                         mtime: Int64(st.st_mtim.tv_sec), mtimeNsec: Int(st.st_mtim.tv_nsec))
        if let cached = images[key] { return .success((st, cached)) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return .success((st, .failure(.notELF))) }
        guard st.st_size > 0, st.st_size <= Int64(Self.maxExecutableSize) else {
            return .success((st, .failure(.unsupported("\(st.st_size) bytes"))))
        }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var got = 0
        while got < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, $0.count - got, off_t(got)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            got += n
        }
        if got < bytes.count { bytes.removeLast(bytes.count - got) }
        let wanted = BashLayout.symbols.union(ZshLayout.symbols)
        let parsed: Result<ELFImage, ELFImage.ParseError>
        do { parsed = .success(try ELFImage.parse(bytes, wanted: wanted)) } catch { parsed = .failure(error) }
        if images.count >= 16 { images.removeAll() }
        images[key] = parsed
        return .success((st, parsed))
    }

    /// `permission denied reading its memory (…)`, naming what decides it: Yama's ptrace_scope
    /// (`<proc root>/sys/kernel/yama/ptrace_scope`; absent without Yama) or, without Yama, the
    /// classic ptrace rule (same user and dumpable, or CAP_SYS_PTRACE).
    public func permissionReason(what: String = "its memory") -> String {
        var scope: Int?
        if case .success(let b) = proc.readRootFile("sys/kernel/yama/ptrace_scope") {
            scope = Int(String(decoding: b.prefix { $0 >= 0x30 && $0 <= 0x39 }, as: UTF8.self))
        }
        return Self.permissionReason(what: what, ptraceScope: scope)
    }

    /// Documentation/admin-guide/LSM/Yama.rst: 0 classic, 1 restricted (an ancestor or a
    /// declared tracer), 2 admin only, 3 no attach.
    public static func permissionReason(what: String, ptraceScope: Int?) -> String {
        let why: String
        switch ptraceScope {
        case nil: why = "no Yama: only its own user (if it is dumpable) or root may read it"
        case 0?: why = "ptrace_scope 0: only its own user (if it is dumpable) or root may read it"
        case 1?: why = "ptrace_scope 1: only an ancestor of it or root may read it"
        case 2?: why = "ptrace_scope 2: only root (CAP_SYS_PTRACE) may read it"
        case let n?: why = "ptrace_scope \(n): nobody may read it"
        }
        return "permission denied reading \(what) (\(why))"
    }
}

/// `pread` on an open `/proc/<pid>/mem`: exactly the bytes asked for, or nil.
struct FileMemory: MemorySource {
    let fd: Int32
    func read(at address: UInt64, count: Int) -> [UInt8]? {
        guard count >= 0, address <= UInt64(Int64.max) - UInt64(count) else { return nil }
        if count == 0 { return [] }
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, count - got, off_t(Int64(address) + Int64(got))) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            got += n
        }
        return out
    }
}

/// Checks a decoded shell view against the snapshot before anything trusts it: the shell is
/// the leader, agrees with its argv on interactive/login, and every job it believes alive is
/// made of live processes of this session, children of the shell, in the job's group.
public enum ShellViewCheck {
    /// nil when it matches; else the first disagreement, as a reason.
    public static func mismatch(_ v: ShellView, leader: ProcessInfo, profile: ShellProfile, snapshot: Snapshot) -> String? {
        let name = v.title
        if v.shellPid != leader.pid { return "\(name): its memory says $$ is \(v.shellPid), not \(leader.pid)" }
        if v.interactive != profile.interactive {
            return "\(name): its memory says \(v.interactive ? "" : "not ")interactive, its argv says \(profile.interactive ? "" : "not ")interactive"
        }
        if v.login != profile.login {
            return "\(name): its memory says \(v.login ? "" : "not ")a login shell, its argv says \(profile.login ? "" : "not ")a login shell"
        }
        var groups: Set<Int32> = []
        let claimed = Set(v.jobs.filter { $0.state != .done }.map(\.pgid))
        for j in v.jobs where j.state != .done {
            if !groups.insert(j.pgid).inserted { return "\(name): two jobs claim group \(j.pgid)" }
            for pid in j.pids {
                guard let p = snapshot.processes[pid] else {
                    return "\(name): job %\(j.number) holds pid \(pid), which /proc does not show"
                }
                if p.sid != leader.sid { return "\(name): job %\(j.number)'s pid \(pid) is in session \(p.sid)" }
                if p.ppid != leader.pid && !p.state.isGone {
                    return "\(name): job %\(j.number)'s pid \(pid) is not a child of the shell (parent \(p.ppid))"
                }
                // A member moved to a group no job claims (setpgid from inside, as `sessiontop
                // detach --new-group` does) is consistent: the shell still signals the job's
                // recorded group (bash killpg(job->pgrp), zsh killpg(jn->gleader)), which
                // no longer holds it.
                // Only a group the shell itself made can have been left that way: a job's group
                // is its first process's pid (bash jobs.c make_child, zsh jobs.c gleader); a
                // recorded group that is not is memory misread or tampered with.
                if v.jobControl && p.pgid != j.pgid && !p.state.isGone
                    && (claimed.contains(p.pgid) || j.pids.first != j.pgid) {
                    return "\(name): job %\(j.number)'s pid \(pid) is in group \(p.pgid), not \(j.pgid)"
                }
            }
        }
        return nil
    }
}
