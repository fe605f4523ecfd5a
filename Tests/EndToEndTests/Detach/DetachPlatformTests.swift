import Testing
import Glibc
import TestSupport
import SessionCore

/// Issue 8 §2, the pre-flight checks that depend on how the target was built and where it runs:
/// a 32-bit (i386) program, and a process in another mount namespace, where the log path names
/// another file (or none). Each refusal is one line and leaves the target as it was; with a log
/// valid in both namespaces the same process is detached and survives the hangup.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct DetachPlatformTests {
    /// A static i386 program that sleeps 1 s in a loop through `int $0x80` (nanosleep, i386
    /// syscall 162): assembled here so the test needs only binutils, not a multilib libc.
    static func build32(in dir: String) throws -> String {
        let src = dir + "/sleep32.s", obj = dir + "/sleep32.o", exe = dir + "/sleep32"
        let asm = """
            .section .data
            ts: .long 1, 0
            .section .text
            .globl _start
            _start:
            1:  movl $162, %eax
                leal ts, %ebx
                xorl %ecx, %ecx
                int $0x80
                jmp 1b

            """
        let fd = open(src, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        try #require(fd >= 0)
        let bytes = Array(asm.utf8)
        try #require(bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count)
        close(fd)
        let a = try Processes.run(["as", "--32", src, "-o", obj])
        try #require(a.status == 0, "as --32: \(a.stderr)")
        let l = try Processes.run(["ld", "-m", "elf_i386", "-static", obj, "-o", exe])
        try #require(l.status == 0, "ld -m elf_i386: \(l.stderr)")
        return exe
    }

    @Test func refusesA32BitProgram() throws {
        let d = try DetachLab(.bash)
        try d.start()
        let exe = try Self.build32(in: d.lab.home)
        d.lab.type("\(exe) \(d.marker)")
        let p = try d.waitForJob()[0]
        // The kernel runs it (IA-32 emulation): it is alive and sleeping, not an exec failure.
        try #require(DetachLab.aliveRunning(p), "the i386 program does not run here")
        let before = DetachSafetyTests.Untouched(p.pid)
        let r = try d.detach([String(p.pid)])
        DetachSafetyTests().expectRefused(r, "not a native")
        #expect(r.stderr.contains("32-bit"), "\(r.stderr)")
        #expect(DetachSafetyTests.Untouched(p.pid) == before)
        #expect(DetachLab.aliveRunning(p))
    }

    /// `unshare --mount` with a tmpfs over the log's directory, in the target's namespace only:
    /// the log sessiontop creates is not the file the target would open there. Refused, target
    /// untouched. A log in a directory both namespaces share then works, and the same pid and
    /// start time outlive the pty.
    @Test func anotherMountNamespaceNeedsALogValidThere() throws {
        let d = try DetachLab(.bash)
        try d.start()
        let hidden = d.lab.home + "/hidden"
        try #require(mkdir(hidden, 0o700) == 0)
        d.lab.type("unshare --mount --propagation private sh -c 'mount -t tmpfs none \(hidden) && exec sleep \(d.marker)'")
        let p = try d.waitForJob()[0]
        try #require(p.argv.hasPrefix("sleep"), "\(p.argv)")
        let ns = { (pid: Int32) -> String in
            var buf = [CChar](repeating: 0, count: 256)
            let n = readlink("/proc/\(pid)/ns/mnt", &buf, buf.count - 1)
            return n > 0 ? String(cString: buf) : "?"
        }
        try #require(ns(p.pid) != ns(getpid()), "the job is not in a mount namespace of its own")
        let before = DetachSafetyTests.Untouched(p.pid)
        let refused = try Processes.run([PackagePaths.binary, "detach", String(p.pid), "--yes", "--log", hidden + "/job.log"],
                                        environment: Processes.defaultEnvironment())
        DetachSafetyTests().expectRefused(refused, "another mount namespace")
        #expect(refused.stderr.contains(hidden + "/job.log"), "\(refused.stderr)")
        #expect(DetachSafetyTests.Untouched(p.pid) == before)
        #expect(DetachLab.aliveRunning(p))

        let r = try d.detach([String(p.pid)])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(DetachLab.fdTarget(p.pid, 1) == d.logPath)
        #expect(DetachLab.sigIgnHup(p.pid))
        try d.hangUp(.closeMaster)
        #expect(DetachLab.aliveRunning(p), "the same pid and start time live on after the hangup")
    }
}
