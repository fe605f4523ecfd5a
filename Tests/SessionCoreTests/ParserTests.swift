import Testing
@testable import SessionCore

/// Pure parsers on real /proc text (captured on kernel 6.18, edited where noted).
@Suite struct StatParserTests {
    @Test func parsesARealStatLine() throws {
        let line = "6396 (cat) R 6394 6394 1305 34819 6394 4194304 102 0 0 0 7 3 0 0 20 0 1 0 37331 3133440 381 18446744073709551615 94221821210624 0 0\n"
        let s = try StatParser.parse(Array(line.utf8))
        #expect(s.pid == 6396)
        #expect(s.comm == Array("cat".utf8))
        #expect(s.state == UInt8(ascii: "R"))
        #expect(s.ppid == 6394)
        #expect(s.pgid == 6394)
        #expect(s.sid == 1305)
        #expect(s.ttyNr == 34819)
        #expect(s.tpgid == 6394)
        #expect(s.utime == 7 && s.stime == 3)
        #expect(s.threads == 1)
        #expect(s.startTime == 37331)
        #expect(s.rssPages == 381)
        #expect(!s.isKernelThread)
    }

    @Test func commIsCutAtTheLastParenthesis() throws {
        // prctl(PR_SET_NAME) lets a program name itself ") (x y\nz".
        let line = "400 () (x y\nz) S 100 400 100 34819 300 4194304 102 0 0 0 7 3 0 0 20 0 3 0 1300 3133440 381\n"
        let s = try StatParser.parse(Array(line.utf8))
        #expect(s.comm == Array(") (x y\nz".utf8))
        #expect(s.state == UInt8(ascii: "S"))
        #expect(s.ppid == 100)
        #expect(s.threads == 3)
        #expect(s.startTime == 1300)
    }

    @Test func commMayHoldTheFieldsItself() throws {
        // A comm that looks like the rest of a stat line must not shift the fields.
        let line = "77 (a) S 1 2 3 4) T 5 77 5 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 999 0 0\n"
        let s = try StatParser.parse(Array(line.utf8))
        #expect(s.comm == Array("a) S 1 2 3 4".utf8))
        #expect(s.state == UInt8(ascii: "T"))
        #expect(s.ppid == 5 && s.pgid == 77 && s.sid == 5 && s.ttyNr == 0 && s.tpgid == -1)
        #expect(s.startTime == 999)
    }

    @Test func kernelThreadFlag() throws {
        let line = "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 24 0 0 18446744073709551615 0 0\n"
        #expect(try StatParser.parse(Array(line.utf8)).isKernelThread)
    }

    @Test func malformedInputIsATypedError() {
        #expect(throws: ParseError.self) { try StatParser.parse(Array("".utf8)) }
        #expect(throws: ParseError.self) { try StatParser.parse(Array("12 (x".utf8)) }
        #expect(throws: ParseError.self) { try StatParser.parse(Array("12 (x) S".utf8)) }
    }
}

@Suite struct StatusParserTests {
    static let real = """
        Name:\tbash
        Umask:\t0027
        State:\tS (sleeping)
        Tgid:\t1305
        PPid:\t1304
        Uid:\t1000\t1001\t1002\t1003
        Gid:\t100\t101\t102\t103
        Threads:\t4
        SigQ:\t0/96365
        SigPnd:\t0000000000000200
        ShdPnd:\t0000000000000001
        SigBlk:\t0000000000010000
        SigIgn:\t0000000000380004
        SigCgt:\t000000004b817efb
        CapInh:\t0000000000000000

        """

    @Test func parsesTheLinesWeUse() {
        let s = StatusParser.parse(Array(Self.real.utf8))
        #expect(s.umask == 0o027)
        #expect(s.uids == [1000, 1001, 1002, 1003])
        #expect(s.gids == [100, 101, 102, 103])
        #expect(s.threads == 4)
        #expect(s.ppid == 1304)
        #expect(SignalSet(mask: s.sigPending).names == ["USR1"])
        #expect(SignalSet(mask: s.sharedPending).names == ["HUP"])
        #expect(SignalSet(mask: s.sigBlocked).names == ["CHLD"])
        #expect(SignalSet(mask: s.sigIgnored).names == ["QUIT", "TSTP", "TTIN", "TTOU"])
        #expect(SignalSet(mask: s.sigCaught).contains(Signals.hup))
        #expect(SignalSet(mask: s.sigCaught).contains(Signals.int))
    }

    @Test func missingUmaskLineIsNil() {
        let s = StatusParser.parse(Array("Name:\tx\nUid:\t0\t0\t0\t0\n".utf8))
        #expect(s.umask == nil)
    }
}

@Suite struct CmdlineAndFdTests {
    @Test func argvSplitsAtNUL() {
        #expect(CmdlineParser.parse(Array("sleep\u{0}100\u{0}".utf8)).map { String(decoding: $0, as: UTF8.self) } == ["sleep", "100"])
        #expect(CmdlineParser.parse([]) == [])
        // setproctitle: no NUL at all
        #expect(CmdlineParser.parse(Array("nginx: worker process".utf8)).count == 1)
        // empty arguments survive
        #expect(CmdlineParser.parse([0x61, 0, 0, 0x62, 0]) == [[0x61], [], [0x62]])
    }

    @Test func nonUTF8ArgvIsShownSafely() {
        let argv = CmdlineParser.parse([0x6f, 0xff, 0xfe, 0x6e, 0, 0x61, 0x0a, 0x62, 0, 0x1b, 0x5b, 0x32, 0x4a, 0])
        #expect(SafeText.display(argv[0]) == "o\\xff\\xfen")
        #expect(SafeText.display(argv[1]) == "a\\nb")
        #expect(SafeText.display(argv[2]) == "\\x1b[2J")
        #expect(SafeText.display(Array("héllo ✓".utf8)) == "héllo ✓")
    }

    @Test func fdTargetsAreClassified() {
        func k(_ s: String) -> FileKind { FdTargetParser.classify(Array(s.utf8)) }
        #expect(k("/dev/pts/3") == .tty)
        #expect(k("/dev/tty1") == .tty)
        #expect(k("/dev/ttyS0") == .tty)
        #expect(k("/dev/console") == .tty)
        #expect(k("/dev/tty") == .tty)
        #expect(k("/dev/pts/ptmx") == .regular)
        #expect(k("/dev/ttyfoo") == .regular)
        #expect(k("pipe:[43210]") == .pipe)
        #expect(k("socket:[5555]") == .socket)
        #expect(k("anon_inode:[eventfd]") == .anonInode)
        #expect(k("anon_inode:inotify") == .anonInode)
        #expect(k("/memfd:buffer (deleted)") == .memfd)
        #expect(k("/tmp/old.log (deleted)") == .deleted)
        #expect(k("net:[4026531840]") == .other)
        #expect(k("/etc/passwd") == .regular)
    }

    @Test func ptsDeviceNumbersWithoutStat() {
        #expect(FdTargetParser.ptsDevice(Array("/dev/pts/3".utf8)) == 34819)
        for n in [0, 255, 256, 300, 70000, 1_048_575] {
            let dev = FdTargetParser.ptsDevice(Array("/dev/pts/\(n)".utf8))
            #expect(dev.flatMap { TTYNameTests.drivers.name(forDevice: $0) } == "pts/\(n)")
        }
        #expect(FdTargetParser.ptsDevice(Array("/dev/pts/ptmx".utf8)) == nil)
        #expect(FdTargetParser.ptsDevice(Array("/dev/pts/1048576".utf8)) == nil)
        #expect(FdTargetParser.ptsDevice(Array("/dev/tty1".utf8)) == nil)
    }

    @Test func fdinfo() {
        let info = FdInfoParser.parse(Array("pos:\t1234\nflags:\t02100002\nmnt_id:\t25\nino:\t6\n".utf8))
        #expect(info == FdInfo(position: 1234, flags: 0o2100002))
        #expect(FdInfoParser.parse(Array("garbage".utf8)) == nil)
    }
}

@Suite struct TTYNameTests {
    static let drivers = TTYDrivers.parse("""
        /dev/tty             /dev/tty        5       0 system:/dev/tty
        /dev/console         /dev/console    5       1 system:console
        /dev/ptmx            /dev/ptmx       5       2 system
        /dev/vc/0            /dev/vc/0       4       0 system:vtmaster
        serial               /dev/ttyS       4 64-95 serial
        pty_slave            /dev/pts      136 0-1048575 pty:slave
        pty_master           /dev/ptm      128 0-1048575 pty:master
        unknown              /dev/tty        4 1-63 console
        """)

    static func dev(_ major: UInt64, _ minor: UInt64) -> UInt64 {
        ((minor & 0xfff00) << 12) | ((major & 0xfff) << 8) | (minor & 0xff)
    }

    @Test func namesUsersKnow() {
        let d = Self.drivers
        #expect(d.name(forDevice: 0) == nil)
        #expect(d.name(forDevice: 34819) == "pts/3")
        #expect(d.name(forDevice: Self.dev(136, 300)) == "pts/300")
        #expect(d.name(forDevice: Self.dev(136, 70000)) == "pts/70000")
        #expect(d.name(forDevice: Self.dev(4, 1)) == "tty1")
        #expect(d.name(forDevice: Self.dev(4, 64)) == "ttyS0")
        #expect(d.name(forDevice: Self.dev(4, 65)) == "ttyS1")
        #expect(d.name(forDevice: Self.dev(5, 1)) == "console")
        #expect(d.name(forDevice: Self.dev(200, 7)) == "tty(200,7)")
    }

    @Test func singleMinorSerialDriver() {
        // Seen in a VM: "serial /dev/ttyS 4 64 serial" (one port, no range).
        let d = TTYDrivers.parse("serial               /dev/ttyS       4      64 serial\n")
        #expect(d.name(forDevice: Self.dev(4, 64)) == "ttyS0")
    }

    @Test func fallbackWithoutDrivers() {
        #expect(TTYDrivers.fallback.name(forDevice: 34819) == "pts/3")
        #expect(TTYDrivers.fallback.name(forDevice: Self.dev(4, 2)) == "tty2")
    }
}

@Suite struct SignalNameTests {
    @Test func namesAndNumbers() {
        #expect(Signals.number(named: "HUP") == 1)
        #expect(Signals.number(named: "sigterm") == 15)
        #expect(Signals.number(named: "9") == 9)
        #expect(Signals.number(named: "RTMIN") == 34)
        #expect(Signals.number(named: "SIGRTMIN+2") == 36)
        #expect(Signals.number(named: "RTMAX-1") == 63)
        #expect(Signals.number(named: "NOPE") == nil)
        #expect(Signals.number(named: "65") == nil)
        for n in Int32(1)...64 where n != 32 && n != 33 {
            #expect(Signals.number(named: Signals.name(of: n)) == n)
        }
    }
}
