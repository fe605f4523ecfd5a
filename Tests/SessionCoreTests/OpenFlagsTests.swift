import Testing
import Foundation
import Glibc
@testable import SessionCore

/// fdinfo `flags:` decoded (issue 11).
@Suite struct OpenFlagsTests {
    @Test func fdinfoFlagsByName() {
        #expect(OpenFlags.names(0o2) == "O_RDWR")
        #expect(OpenFlags.names(0o2002) == "O_RDWR|O_APPEND")
        #expect(OpenFlags.names(0o0) == "O_RDONLY")
        #expect(OpenFlags.names(0o2004001) == "O_WRONLY|O_NONBLOCK|O_CLOEXEC")
        #expect(OpenFlags.names(0o4010001) == "O_WRONLY|O_SYNC")
        #expect(OpenFlags.names(0o10000000) == "O_PATH")
        #expect(OpenFlags.names(0o2 | 0o40000000) == "O_RDWR|040000000")
        // Any bits at all: never a crash.
        for f in [UInt32.max, 3, 0o37777777777] { #expect(!OpenFlags.names(f).isEmpty) }
    }

    @Test func theLiveFdinfoOfAnAppendFile() throws {
        let path = "/tmp/st-openflags-\(getpid())"
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        #expect(fd >= 0)
        defer { close(fd); unlink(path) }
        let text = try #require(try? String(contentsOfFile: "/proc/self/fdinfo/\(fd)", encoding: .utf8))
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("flags:") })
        let flags = try #require(UInt32(line.dropFirst(6).trimmingCharacters(in: .whitespaces), radix: 8))
        let names = OpenFlags.names(flags)
        #expect(names.hasPrefix("O_RDWR|O_APPEND"), "\(names)")
        #expect(names.contains("O_CLOEXEC"))
    }
}
