import Testing
@testable import SessionCore

/// What the mutated fixture trees of issue 10 exposed, one parser at a time: every number
/// overflow-checked, ranges that are not ranges, trees with cycles, non-finite JSON.
@Suite struct HardeningParserTests {
    static func scan(_ text: String, _ body: (inout ByteScanner) -> Int64?) -> Int64? {
        Array(text.utf8).withUnsafeBufferPointer { b in
            var s = ByteScanner(b)
            return body(&s)
        }
    }

    @Test func numbersAreOverflowChecked() {
        #expect(Self.scan("-9223372036854775808") { $0.int64() } == .min)
        #expect(Self.scan("9223372036854775807") { $0.int64() } == .max)
        #expect(Self.scan("9223372036854775808") { $0.int64() } == nil)
        #expect(Self.scan("-9223372036854775809") { $0.int64() } == nil)
        #expect(Self.scan("99999999999999999999999") { $0.int64() } == nil)
        #expect(Self.scan("18446744073709551615") { $0.uint64().map { Int64(bitPattern: $0) } } == -1)
        #expect(Self.scan("18446744073709551616") { $0.uint64().map { Int64(bitPattern: $0) } } == nil)
        #expect(Self.scan("ffffffffffffffff") { $0.unsigned(radix: 16).map { Int64(bitPattern: $0) } } == -1)
        #expect(Self.scan("10000000000000000") { $0.unsigned(radix: 16).map { Int64(bitPattern: $0) } } == nil)
        #expect(Self.scan("-") { $0.int64() } == nil)
        // An overflowing token is consumed whole: the next one is read from after it.
        #expect(Self.scan("99999999999999999999999 7") { s in _ = s.int64(); return s.int64() } == 7)
    }

    @Test func statFieldsOutOfRangeAreMalformed() throws {
        let good = "5 (x) S 1 5 5 0 -1 4194304 0 0 0 0 7 3 0 0 20 0 1 0 99 0 12\n"
        #expect(try StatParser.parse(Array(good.utf8)).rssPages == 12)
        for bad in [
            "5 (x) S -9223372036854775808 5 5 0 -1 4194304 0 0 0 0 7 3 0 0 20 0 1 0 99 0 12\n",
            "5 (x) S 4294967297 5 5 0 -1 4194304 0 0 0 0 7 3 0 0 20 0 1 0 99 0 12\n",
            "9999999999 (x) S 1 5 5 0 -1 4194304 0 0 0 0 7 3 0 0 20 0 1 0 99 0 12\n",
            "0 (x) S 1 5 5 0 -1 4194304 0 0 0 0 7 3 0 0 20 0 1 0 99 0 12\n",
            "5 (x) S 1 5 5 0 -2 4194304 0 0 0 0 7 3 0 0 20 0 1 0 99 0 12\n",
            "5 (x) S 1 5 5 0 -1 4294967296 0 0 0 0 7 3 0 0 20 0 1 0 99 0 12\n",
            "5 (x) S 1 5 5 0 -1 4194304 0 0 0 0 18446744073709551616 3 0 0 20 0 1 0 99 0 12\n",
            "5 (x) S 1 5 5 0 -1 4194304 0 0 0 0 7 3 0 0 20 0 -1 0 99 0 12\n",
        ] {
            #expect(throws: ParseError.self, "\(bad)") { try StatParser.parse(Array(bad.utf8)) }
        }
        // tty_nr is an int with the bits of a dev_t.
        let neg = "5 (x) S 1 5 5 -1 -1 4194304 0 0 0 0 7 3 0 0 20 0 1 0 99 0 12\n"
        #expect(try StatParser.parse(Array(neg.utf8)).ttyNr == UInt32.max)
    }

    @Test func statusWithoutAValidUidLineHasNoIds() {
        #expect(StatusParser.parse(Array("Name:\tx\nGid:\t5\t5\t5\t5\n".utf8)).uids.isEmpty)
        #expect(StatusParser.parse(Array("Uid:\t99999999999\t0\t0\t0\n".utf8)).uids.isEmpty)
        #expect(StatusParser.parse(Array("Uid:\t1\tx\t0\t0\n".utf8)).uids.isEmpty)
        #expect(StatusParser.parse(Array("Uid:\t1\t2\t3\t4\t5\t6\n".utf8)).uids == [1, 2, 3, 4])
        #expect(StatusParser.parse(Array("Umask:\t77777\n".utf8)).umask == nil)
        #expect(StatusParser.parse(Array("SigCgt:\t1ffffffffffffffff\n".utf8)).sigCaught == 0)
    }

    @Test func ttyDriverRangesThatAreNotRanges() {
        let text = """
            pty_slave            /dev/pts      136 - pty:slave
            a                    /dev/a        4 5- serial
            b                    /dev/b        4 9-3 serial
            c                    /dev/c        4 1-2-3 serial
            d                    /dev/d        4 -7 serial
            serial               /dev/ttyS       4 64-95 serial
            short
            """
        let d = TTYDrivers.parse(text)
        #expect(d.drivers.map(\.name) == ["serial"])
        #expect(d.name(forDevice: (4 << 8) | 65) == "ttyS1")
        #expect(d.name(forDevice: (136 << 8) | 3) == "pts/3")  // the fallback names it
    }

    @Test func uptimeIsAPlainDecimalOrUnknown() {
        #expect(SnapshotReader.parseUptime(Array("4321.50 8000.00\n".utf8)) == 4321.5)
        #expect(SnapshotReader.parseUptime(Array("17\n".utf8)) == 17)
        for bad in ["nan 1", "inf 1", "-inf", "1e999", "0x1p3", "12abc", "", " 1", "1.2.3", ".5", "5.",
                    String(repeating: "9", count: 400)] {
            #expect(SnapshotReader.parseUptime(Array(bad.utf8)) == nil, "\(bad)")
        }
    }

    @Test func jsonHasNoNonFiniteNumbers() {
        var w = JSONWriter()
        w.array { w in
            w.double(.nan)
            w.double(.infinity)
            w.double(-.infinity)
            w.double(1.5)
        }
        #expect(String(decoding: w.bytes, as: UTF8.self) == "[null,null,null,1.5]")
    }

    static func process(_ pid: Int32, ppid: Int32, pgid: Int32 = 10, sid: Int32 = 10) -> ProcessInfo {
        ProcessInfo(pid: pid, ppid: ppid, pgid: pgid, sid: sid, tpgid: -1, state: .sleeping, comm: Array("p".utf8),
                    argv: .known([]), exe: .unknown(.notRead), uid: 0, euid: 0, gid: 0, egid: 0, user: "root",
                    startTime: UInt64(pid), threads: 1, ttyDevice: 0, tty: nil, cwd: .unknown(.notRead),
                    umask: .known(0o22), fds: .unknown(.notRead), signals: SignalDispositions(),
                    isKernelThread: false, cpuTicks: 0, rssBytes: 0)
    }

    /// A self-parent, a two-cycle and a three-cycle in one group: every member comes out once.
    @Test func treeOrderToleratesCyclesAndSelfParents() throws {
        let procs: [ProcessInfo] = [
            Self.process(10, ppid: 1), Self.process(11, ppid: 10), Self.process(12, ppid: 12),
            Self.process(13, ppid: 14), Self.process(14, ppid: 13),
            Self.process(20, ppid: 22), Self.process(21, ppid: 20), Self.process(22, ppid: 21),
            Self.process(23, ppid: 22),
        ]
        let snap = Snapshot(processes: Dictionary(uniqueKeysWithValues: procs.map { ($0.pid, $0) }), selfPid: 10)
        let group = try #require(snap.group(10))
        let order = snap.treeOrder(of: group)
        #expect(order.map(\.pid).sorted() == group.members)
        #expect(order.map(\.pid) == [10, 11, 12, 13, 14, 20, 21, 22, 23])
        #expect(order.map(\.depth) == [0, 1, 0, 0, 1, 0, 1, 2, 3])
    }

    @Test func aDeepChainIsNotARecursion() throws {
        // 100 000 processes each the child of the one before: no stack overflow.
        var procs: [Int32: ProcessInfo] = [:]
        for pid in Int32(2)...100_001 { procs[pid] = Self.process(pid, ppid: pid - 1, pgid: 2, sid: 2) }
        let snap = Snapshot(processes: procs, selfPid: 2)
        let order = snap.treeOrder(of: try #require(snap.group(2)))
        #expect(order.count == 100_000)
        #expect(order.last?.depth == 99_999)
    }
}
