import FuzzHarness
#if canImport(Glibc)
import Glibc
#endif

// One binary, every target (FuzzTargets.all): SESSIONTOP_FUZZ_TARGET picks the one libFuzzer
// drives; the rest of argv is libFuzzer's. Besides:
//   sessiontop-fuzz --list                         the target names and their -max_len
//   sessiontop-fuzz --seeds TARGET FIXTURE DIR      writes TARGET's seed corpus from a fixture tree
//   sessiontop-fuzz --encode-tree TREE FILE         a directory tree as one `tree` input

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

nonisolated(unsafe) var current: FuzzTarget?

/// libFuzzer's entry: a broken invariant is a crash, like a trap.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let target = current else { return 0 }
    let problems = target.run(UnsafeBufferPointer(start: data, count: size))
    if !problems.isEmpty {
        let text = "sessiontop-fuzz \(target.name): " + problems.prefix(5).joined(separator: "; ") + "\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
        abort()
    }
    return 0
}

func complain(_ text: String) { _ = (text + "\n").withCString { write(2, $0, strlen($0)) } }

func writeFile(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { complain("cannot write \(path)"); exit(1) }
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

let args = CommandLine.arguments
switch args.count > 1 ? args[1] : "" {
case "--list":
    for t in FuzzTargets.all { print(t.name, t.maxLength) }
case "--seeds":
    guard args.count == 5, let t = FuzzTargets.target(named: args[2]) else { complain("usage: --seeds TARGET FIXTURE DIR"); exit(2) }
    for (i, seed) in FuzzTargets.seeds(for: t, fixture: args[3]).enumerated() { writeFile("\(args[4])/seed-\(i)", seed) }
case "--encode-tree":
    guard args.count == 4 else { complain("usage: --encode-tree TREE FILE"); exit(2) }
    writeFile(args[3], FuzzTree.encode(FuzzTree.read(directory: args[2])))
default:
    let name = getenv("SESSIONTOP_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let t = FuzzTargets.target(named: name) else {
        complain("set SESSIONTOP_FUZZ_TARGET to one of: \(FuzzTargets.all.map(\.name).joined(separator: " "))")
        exit(2)
    }
    current = t
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
}
