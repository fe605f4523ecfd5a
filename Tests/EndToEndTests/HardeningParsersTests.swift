import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// The crashes, hangs and wrong answers found by mutating a fixture /proc tree (issue 10,
/// item 1): each is a copy of `Tests/Fixtures/basic` with one thing changed, run through the
/// built binary (`snapshot`, `snapshot --json`, `hangup --json`, under a 4 GB address-space
/// limit and a 20 s timeout): exit 0, nothing on stderr, JSON a strict parser accepts.
@Suite struct HardeningParsersTests {
    /// A fresh copy of the basic fixture tree, changed by `mutate` (a shell line run in it).
    static func tree(_ mutate: String) throws -> String {
        let dir = try TempDirectory.make("mutated")
        let r = try Processes.run(["/bin/sh", "-c", "cp -a '\(PackagePaths.fixtures)/basic/.' . && \(mutate)"], workingDirectory: dir)
        #expect(r.status == 0, "\(mutate): \(r.stderr)")
        return dir
    }

    static func run(_ args: [String], on tree: String) throws -> Processes.Output {
        try Processes.run(["/bin/sh", "-c", "ulimit -v 4000000; exec \"$@\"", "sh", PackagePaths.binary] + args + ["--proc-root", tree],
                          timeout: 20)
    }

    /// JSON as Python's json module reads it, with NaN/Infinity refused (RFC 8259 has none).
    static func strictJSON(_ text: String) throws -> Bool {
        let dir = try TempDirectory.make("json")
        defer { TempDirectory.remove(dir) }
        let fd = open(dir + "/j", O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress!, $0.count - 1) }
        close(fd)
        let check = "import json,sys\ndef no(c): raise ValueError(c)\njson.load(open(sys.argv[1]), parse_constant=no)"
        return try Processes.run(["python3", "-c", check, dir + "/j"]).status == 0
    }

    /// Every command works on the tree; returns the `snapshot --json` and text output.
    @discardableResult
    static func expectSound(_ tree: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> (json: String, text: String) {
        var json = "", text = ""
        for args in [["snapshot", "--json"], ["snapshot"], ["hangup", "--json"], ["hangup", "--event", "logout"]] {
            let r = try run(args, on: tree)
            #expect(r.status == 0, "\(args): status \(r.status), \(r.stderr.prefix(300))", sourceLocation: sourceLocation)
            #expect(r.stderr.isEmpty, "\(args): \(r.stderr.prefix(300))", sourceLocation: sourceLocation)
            if args.contains("--json") {
                #expect(try strictJSON(r.stdout), "\(args): invalid JSON", sourceLocation: sourceLocation)
            }
            if args == ["snapshot", "--json"] { json = r.stdout }
            if args == ["snapshot"] { text = r.stdout }
        }
        return (json, text)
    }

    @Test func tenDigitPidDirectoriesAreNotPids() throws {
        // 9999999999 overflows an Int32; 4294967396 would wrap to 100 if truncated.
        let t = try Self.tree("for p in 9999999999 4294967396; do mkdir $p && sed \"s/^100 /$p /\" 100/stat > $p/stat && cp 100/status $p/; done")
        defer { TempDirectory.remove(t) }
        let (json, _) = try Self.expectSound(t)
        #expect(!json.contains("9999999999") && !json.contains("4294967396"))
        #expect(json.ranges(of: "{\"pid\":100,").count == 1, "pid 100 once")
    }

    @Test func aProcessThatIsItsOwnParentOrInACycle() throws {
        // 700 is its own parent; 200 and 500 are each other's parent (a view no live scan
        // gives, but a racy one through recycled pids can).
        let t = try Self.tree("sed -i 's/^700 (backupd) S 1 /700 (backupd) S 700 /' 700/stat && sed -i 's/^200 (vim) T 100 /200 (vim) T 500 /' 200/stat")
        defer { TempDirectory.remove(t) }
        let (_, text) = try Self.expectSound(t)
        let lines = text.split(separator: "\n")
        for pid in [700, 200, 500, 100] {
            #expect(lines.filter { $0.split(separator: " ").first == "\(pid)" }.count == 1, "\(pid) shown once:\n\(text)")
        }
    }

    @Test func aTTYDriverRangeOfADash() throws {
        let t = try Self.tree("sed -i 's|/dev/pts      136 0-1048575|/dev/pts      136 -|' tty/drivers && echo 'bad x y - z' >> tty/drivers && echo 'short' >> tty/drivers")
        defer { TempDirectory.remove(t) }
        let (json, _) = try Self.expectSound(t)
        #expect(json.contains("\"tty\":\"pts/3\""))
    }

    @Test func extremeNumbersInStat() throws {
        // Int64.min as ppid; u64 max utime with stime 1 (the sum overflows); i64 max rss pages.
        let t = try Self.tree("""
            sed -i 's/^300 (cat) S 100 /300 (cat) S -9223372036854775808 /' 300/stat && \
            sed -i 's/^301 (grep) S 100 300 100 34819 300 4194304 102 0 0 0 7 3 /301 (grep) S 100 300 100 34819 300 4194304 102 0 0 0 18446744073709551615 1 /' 301/stat && \
            sed -i 's/ 3133440 381 / 3133440 9223372036854775807 /' 200/stat && \
            sed -i 's/^901 (worker) S 1 900 100 34819 300 4194304 102 0 0 0 7 3 /901 (worker) S 1 900 100 34819 300 4194304 102 0 0 0 99999999999999999999999 3 /' 901/stat
            """)
        defer { TempDirectory.remove(t) }
        let (json, _) = try Self.expectSound(t)
        // A stat with an impossible field is malformed: that process is left out, the rest stays.
        #expect(!json.contains("{\"pid\":300,") && !json.contains("{\"pid\":901,"))
        #expect(json.contains("{\"pid\":301,") && json.contains("{\"pid\":200,"))
    }

    @Test func aStatThatNeverEndsAndOneTooLarge() throws {
        // stat → /dev/zero (endless); cmdline 16 MiB (beyond what a kernel hands out for argv).
        let t = try Self.tree("rm 300/stat && ln -s /dev/zero 300/stat && head -c 16777216 /dev/zero | tr '\\0' a > 301/cmdline")
        defer { TempDirectory.remove(t) }
        let (json, _) = try Self.expectSound(t)
        #expect(!json.contains("{\"pid\":300,"))
        #expect(json.contains("\"argv\":null,\"argv_unknown\":\"larger than its known bound\""))
    }

    @Test func aFIFOInPlaceOfAFileDoesNotBlock() throws {
        let t = try Self.tree("rm 100/status 301/cmdline 200/fdinfo/3 && mkfifo 100/status 301/cmdline 200/fdinfo/3 && rm uptime && mkfifo uptime")
        defer { TempDirectory.remove(t) }
        let started = monotonicSeconds()
        let (json, _) = try Self.expectSound(t)
        #expect(monotonicSeconds() - started < 15)
        #expect(json.contains("\"argv\":null,\"argv_unknown\":\"not a regular file\""))
        // The shell whose status is a FIFO is still there, its ids unknown.
        #expect(json.contains("\"user\":null,\"user_unknown\":\"not a regular file\""))
        #expect(json.contains("\"uptime\":null"))
        let withInfo = try Self.run(["snapshot", "--json", "--fdinfo"], on: t)
        #expect(withInfo.status == 0 && withInfo.stdout.contains("\"fd\":3,\"target\":\"/home/ann/src/.notes.txt.swp\",\"kind\":\"file\",\"flags\":null,\"pos\":null,\"fdinfo_unknown\":\"not a regular file\"}"))
    }

    @Test func anUptimeOfNaNOrInfinity() throws {
        for value in ["nan", "inf", "-inf", "1e999", "0x1p3", "12abc"] {
            let t = try Self.tree("echo '\(value) 1.00' > uptime")
            defer { TempDirectory.remove(t) }
            let (json, _) = try Self.expectSound(t)
            #expect(json.contains("\"uptime\":null"), "\(value)")
        }
        let t = try Self.tree("echo '4321.50 1.00' > uptime")
        defer { TempDirectory.remove(t) }
        #expect(try Self.expectSound(t).json.contains("\"uptime\":4321.5"))
    }

    @Test func aStatusWithoutUidIsUnknownNotRoot() throws {
        let t = try Self.tree("sed -i '/^Uid:/d; /^Gid:/d' 100/status && sed -i 's/^Uid:.*/Uid:\\t99999999999\\t1\\t1\\t1/' 300/status")
        defer { TempDirectory.remove(t) }
        let (json, text) = try Self.expectSound(t)
        func object(_ pid: Int) -> String {
            guard let r = json.firstRange(of: "{\"pid\":\(pid),") else { return "" }
            return String(json[r.lowerBound...].prefix { $0 != "}" })
        }
        #expect(object(100).contains("\"user\":null,\"user_unknown\":\"malformed: no valid Uid: line in status\",\"uid\":null,\"euid\":null,\"gid\":null,"), "\(object(100))")
        #expect(object(300).contains("\"user\":null,\"user_unknown\":\"malformed: no valid Uid: line in status\",\"uid\":null,\"euid\":null,\"gid\":1000,"), "\(object(300))")
        let bash = text.split(separator: "\n").first { $0.hasSuffix("-bash") }.map(String.init) ?? ""
        #expect(bash.contains(" ? ") && !bash.contains("root"), "\(bash)")
    }
}
