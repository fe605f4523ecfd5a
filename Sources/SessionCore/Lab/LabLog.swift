#if canImport(Glibc)
import Glibc
#endif

/// The log of every lab run and every surprise the inspector saw: one JSON object a line in
/// `$XDG_STATE_HOME/sessiontop/lab.jsonl` (XDG Base Directory spec; `SafeFile.logDirectory`),
/// opened through SafeFile (no symlink, regular file, owner-checked directories created 0700).
public enum LabLog {
    /// Where the log is for the caller (from its environment), nil when there is no place.
    public static func defaultPath(environment: [String] = LabLog.environment()) -> String? {
        SafeFile.logDirectory(environment: environment, uid: geteuid()).map { $0 + "/lab.jsonl" }
    }

    public static func environment() -> [String] {
        var out: [String] = []
        var p = environ
        while let s = p.pointee { out.append(String(cString: s)); p += 1 }
        return out
    }

    /// `source`: "lab" (a run of `sessiontop lab`) or "inspector" (a terminal that went away
    /// while watched). `scene`: free words about the setup (the shell, the lesson reached).
    public static func json(_ t: RealityTable, source: String, scene: [String: String] = [:]) -> [UInt8] {
        var w = JSONWriter(capacity: 4096)
        w.object { w in
            w.key("source"); w.string(source)
            w.key("time"); w.double(t.freeze.wallTime)
            w.key("event"); w.string(t.freeze.event.rawValue)
            w.key("sid"); w.int(t.freeze.sid)
            w.key("tty"); if let tty = t.freeze.tty { w.string(tty) } else { w.null() }
            w.key("shell"); w.string(t.freeze.shell)
            // The scene: "name: value" lines (the lesson reached, the shell's options…).
            w.key("scene"); w.strings(scene.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" })
            w.key("watched_seconds"); w.double((t.watched * 100).rounded() / 100)
            w.key("summary"); w.string(t.summary)
            w.key("surprises"); w.int(t.surprises)
            w.key("processes"); w.array { w in
                for r in t.rows {
                    w.object { w in
                        let p = r.prediction
                        w.key("pid"); w.int(p.identity.pid)
                        w.key("start_time"); w.int(p.identity.startTime)
                        w.key("ppid"); w.int(p.ppid)
                        w.key("pgid"); w.int(p.pgid)
                        w.key("sid"); w.int(p.sid)
                        w.key("command"); w.string(p.command)
                        w.key("predicted"); w.string(p.verdict.fate.rawValue)
                        w.key("by"); if let by = p.verdict.by { w.string(by.rawValue) } else { w.null() }
                        w.key("certain"); w.bool(p.verdict.certain)
                        w.key("reasons"); w.strings(p.verdict.reasons)
                        w.key("reality"); w.string(r.reality.isDead ? "dead" : "alive")
                        switch r.reality {
                        case .killed(let sig): w.key("signal"); w.string(Signals.name(of: sig))
                        case .exited(let code): w.key("exit_code"); w.int(code)
                        case .alive(let stopped): w.key("stopped"); w.bool(stopped)
                        case .died: w.key("how"); w.string("unknown")
                        }
                        w.key("surprise"); w.bool(r.surprise)
                        w.key("rule"); if let rule = r.rule { w.string(rule) } else { w.null() }
                    }
                }
            }
        }
        return w.bytes + [0x0a]
    }

    /// Appends one run to the log at `path` (default: `defaultPath()`); the path written, or
    /// the error as one line.
    @discardableResult
    public static func append(_ t: RealityTable, source: String, scene: [String: String] = [:],
                              path given: String? = nil) -> Result<String, SafeFileError> {
        guard let path = given ?? defaultPath() else {
            return .failure(.noLogDirectory(uid: geteuid()))
        }
        let line = json(t, source: source, scene: scene)
        do {
            let h = try SafeFile.open(path, for: .output(append: true), makeDirectories: FileOwner.caller)
            var off = 0
            while off < line.count {
                let n = line.withUnsafeBytes { write(h.fd, $0.baseAddress! + off, $0.count - off) }
                if n < 0 { if errno == EINTR { continue }; return .failure(.system(path, .current)) }
                off += n
            }
            return .success(path)
        } catch {
            return .failure(error)
        }
    }
}
