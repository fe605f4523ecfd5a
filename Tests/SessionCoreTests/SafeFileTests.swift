import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// SafeFile's rules, each against what another user (uid 65534) can plant. Runs as root.
@Suite struct SafeFileTests {
    static let nobody = FileOwner(uid: 65534, gid: 65534)

    static func put(_ path: String, _ text: String, mode: mode_t = 0o600, owner: UInt32? = nil) {
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, mode)
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress!, $0.count - 1) }
        if let owner { fchown(fd, owner, owner) }
        close(fd)
    }

    static func sticky(_ base: String) -> String {
        let d = base + "/shared"
        mkdir(d, 0o777)
        chmod(d, 0o1777)
        return d
    }

    static func statOf(_ path: String) -> stat? {
        var st = stat()
        return lstat(path, &st) == 0 ? st : nil
    }

    @Test func createsAndRemovesANewFile() throws {
        let dir = try TempDirectory.make("safefile")
        defer { TempDirectory.remove(dir) }
        let h = try SafeFile.open(dir + "/a.pid", for: .pidFile)
        #expect(h.created && h.fd >= 0)
        #expect(Self.statOf(dir + "/a.pid").map { $0.st_mode & 0o600 == 0o600 && $0.st_mode & 0o022 == 0 && $0.st_uid == 0 } == true)
        h.removeIfCreated()
        #expect(access(dir + "/a.pid", F_OK) != 0)
        // An existing file is opened, not created, and never removed by the handle.
        Self.put(dir + "/b.pid", "1\n")
        let b = try SafeFile.open(dir + "/b.pid", for: .pidFile)
        #expect(!b.created)
        b.removeIfCreated()
        #expect(Files.read(dir + "/b.pid") == "1\n")
    }

    @Test func outputIsTruncatedOnlyAfterTheChecks() throws {
        let dir = try TempDirectory.make("safefile")
        defer { TempDirectory.remove(dir) }
        Self.put(dir + "/out", "old\n")
        _ = try SafeFile.open(dir + "/out", for: .output(append: false))
        #expect(Files.read(dir + "/out") == "")
        Self.put(dir + "/keep", "keep\n")
        symlink(dir + "/keep", dir + "/link")
        #expect(throws: SafeFileError.symlink(dir + "/link")) { try SafeFile.open(dir + "/link", for: .output(append: false)) }
        #expect(Files.read(dir + "/keep") == "keep\n")
        let a = try SafeFile.open(dir + "/keep", for: .output(append: true))
        #expect(Glibc.write(a.fd, "more\n", 5) == 5)
        #expect(Files.read(dir + "/keep") == "keep\nmore\n")
    }

    @Test func refusesWhatIsNotARegularFileWithoutBlocking() throws {
        let dir = try TempDirectory.make("safefile")
        defer { TempDirectory.remove(dir) }
        mkfifo(dir + "/fifo", 0o666)
        let t = monotonicSeconds()
        for use in [SafeFile.Use.pidFile, .lockFile, .output(append: true), .output(append: false)] {
            #expect(throws: SafeFileError.notRegularFile(dir + "/fifo")) { try SafeFile.open(dir + "/fifo", for: use) }
        }
        #expect(monotonicSeconds() - t < 2)
        mkdir(dir + "/sub", 0o755)
        #expect(throws: SafeFileError.notRegularFile(dir + "/sub")) { try SafeFile.open(dir + "/sub", for: .pidFile) }
        #expect(throws: SafeFileError.notRegularFile("/dev/null")) { try SafeFile.open("/dev/null", for: .output(append: false)) }
    }

    @Test func refusesHardLinksAndForeignFilesInSharedDirectories() throws {
        let dir = try TempDirectory.make("safefile")
        defer { TempDirectory.remove(dir) }
        Self.put(dir + "/orig", "x\n")
        link(dir + "/orig", dir + "/second")
        #expect(throws: SafeFileError.hardLinked(dir + "/second", links: 2)) { try SafeFile.open(dir + "/second", for: .pidFile) }

        let shared = Self.sticky(dir)
        Self.put(shared + "/theirs", "planted\n", mode: 0o666, owner: Self.nobody.uid)
        #expect(throws: SafeFileError.foreignFile(shared + "/theirs", owner: 65534)) {
            try SafeFile.open(shared + "/theirs", for: .lockFile)
        }
        // Theirs to use when the daemon runs as them.
        _ = try SafeFile.open(shared + "/theirs", for: .lockFile, owners: [0, 65534])
        // In a directory only root can write to, root put it there: used.
        Self.put(dir + "/given", "x\n", mode: 0o644, owner: Self.nobody.uid)
        _ = try SafeFile.open(dir + "/given", for: .pidFile)
        // A new file in the sticky directory is fine (created exclusively).
        #expect(try SafeFile.open(shared + "/new.pid", for: .pidFile).created)
    }

    @Test func directorySymlinksAreFollowedOnlyWithinTheirOwnersReach() throws {
        let dir = try TempDirectory.make("safefile")
        defer { TempDirectory.remove(dir) }
        mkdir(dir + "/real", 0o755)
        // Root's own link (like /var/run -> /run): followed.
        symlink(dir + "/real", dir + "/rootlink")
        #expect(try SafeFile.open(dir + "/rootlink/a.pid", for: .pidFile).created)
        #expect(access(dir + "/real/a.pid", F_OK) == 0)
        // Another user's link into a directory of root's: refused, nothing created.
        let shared = Self.sticky(dir)
        symlink(dir + "/real", shared + "/evil")
        lchown(shared + "/evil", 65534, 65534)
        #expect(throws: SafeFileError.untrustedSymlink(link: shared + "/evil", owner: 65534, into: dir + "/real")) {
            try SafeFile.open(shared + "/evil/b.pid", for: .pidFile)
        }
        #expect(access(dir + "/real/b.pid", F_OK) != 0)
        // ... even through a relative link and a root-owned link after it.
        symlink("../real", shared + "/rel")
        lchown(shared + "/rel", 65534, 65534)
        #expect(throws: SafeFileError.self) { try SafeFile.open(shared + "/rel/c.pid", for: .pidFile) }
        // Into a directory that user owns: theirs anyway, followed.
        mkdir(dir + "/theirs", 0o755)
        chown(dir + "/theirs", 65534, 65534)
        symlink(dir + "/theirs", shared + "/mine")
        lchown(shared + "/mine", 65534, 65534)
        #expect(try SafeFile.open(shared + "/mine/d.pid", for: .pidFile, owners: [0, 65534]).created)
        // A loop ends with ELOOP, not a hang.
        symlink(dir + "/loop", dir + "/loop")
        #expect(throws: SafeFileError.system(dir + "/loop", Errno(ELOOP))) { try SafeFile.open(dir + "/loop/x", for: .pidFile) }
        // A missing directory is named.
        #expect(throws: SafeFileError.system(dir + "/missing", Errno(ENOENT))) { try SafeFile.open(dir + "/missing/x.pid", for: .pidFile) }
        #expect((try? SafeFile.open(dir + "/missing/x.pid", for: .pidFile)) == nil)
        #expect(SafeFileError.system(dir + "/missing", Errno(ENOENT)).description == "cannot open \(dir)/missing: No such file or directory")
    }

    @Test func createLogMakesAPrivateFileForTheTargetUser() throws {
        let base = try TempDirectory.makePrivate("safefile")
        defer { TempDirectory.remove(base) }
        let path = base + "/home/.local/state/sessiontop/x-1.log"
        mkdir(base + "/home", 0o755)
        chown(base + "/home", 65534, 65534)
        let h = try SafeFile.createLog(path, owner: Self.nobody)
        #expect(h.created)
        #expect(Glibc.write(h.fd, "hi\n", 3) == 3)
        let st = try #require(Self.statOf(path))
        #expect(st.st_mode & S_IFMT == S_IFREG && st.st_mode & 0o777 == 0o600 && st.st_uid == 65534 && st.st_gid == 65534 && st.st_nlink == 1)
        for d in [base + "/home/.local", base + "/home/.local/state", base + "/home/.local/state/sessiontop"] {
            let ds = try #require(Self.statOf(d))
            #expect(ds.st_uid == 65534 && ds.st_mode & 0o777 == 0o700, "\(d)")
        }
        #expect(Files.read(path) == "hi\n")
        // Never an existing file, whatever it is.
        #expect(throws: SafeFileError.exists(path)) { try SafeFile.createLog(path, owner: Self.nobody) }
        let dirPath = base + "/home/.local/state/sessiontop"
        symlink(base + "/victim", dirPath + "/planted.log")
        #expect(throws: SafeFileError.exists(dirPath + "/planted.log")) { try SafeFile.createLog(dirPath + "/planted.log", owner: Self.nobody) }
        #expect(access(base + "/victim", F_OK) != 0)
    }

    @Test func createLogRefusesDirectoriesOthersCanWrite() throws {
        let base = try TempDirectory.makePrivate("safefile")
        defer { TempDirectory.remove(base) }
        mkdir(base + "/group", 0o770)
        chmod(base + "/group", 0o770)
        chown(base + "/group", 0, 100)
        #expect(throws: SafeFileError.unsafeDirectory(base + "/group", reason: "it is writable by group 100")) {
            try SafeFile.createLog(base + "/group/x.log", owner: .caller)
        }
        mkdir(base + "/theirs", 0o700)
        chown(base + "/theirs", 65534, 65534)
        #expect(throws: SafeFileError.unsafeDirectory(base + "/theirs", reason: "it belongs to uid 65534")) {
            try SafeFile.createLog(base + "/theirs/x.log", owner: .caller)
        }
        // Below a world-writable sticky directory (HOME=/tmp): refused before anything is
        // created in it.
        let tmp = base + "/sticky"
        mkdir(tmp, 0o777)
        chmod(tmp, 0o1777)
        #expect(throws: SafeFileError.unsafeDirectory(tmp, reason: "it is writable by everyone")) {
            try SafeFile.createLog(tmp + "/.local/state/sessiontop/x.log", owner: .caller)
        }
        #expect(access(tmp + "/.local", F_OK) != 0)
        #expect(throws: SafeFileError.unsafeDirectory(tmp, reason: "it is writable by everyone")) {
            try SafeFile.createLog(tmp + "/x.log", owner: .caller)
        }
        // Passing through it to a directory of one's own is fine (XDG_STATE_HOME=/tmp/mine/state).
        mkdir(tmp + "/mine", 0o700)
        let log = try SafeFile.createLog(tmp + "/mine/state/x.log", owner: .caller)
        log.removeIfCreated()
        // But not to another user's directory there, nor to a fresh one.
        mkdir(tmp + "/planted", 0o700)
        chown(tmp + "/planted", 65534, 65534)
        #expect(throws: SafeFileError.unsafeDirectory(tmp + "/planted", reason: "it belongs to uid 65534")) {
            try SafeFile.createLog(tmp + "/planted/x.log", owner: .caller)
        }
        #expect(throws: SafeFileError.badPath(base + "/")) { try SafeFile.createLog(base + "/", owner: .caller) }
    }
}
