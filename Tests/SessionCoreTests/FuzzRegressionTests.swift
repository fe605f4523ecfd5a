import Testing
import Glibc
import TestSupport
import FuzzHarness
@testable import SessionCore

/// The fuzz targets (FuzzHarness) run in the ordinary test suite: every seed, every kept input
/// in `Tests/Fixtures/fuzz/<target>/` (crashers found by scripts/fuzz and the trees of issue 10's
/// findings), and a few thousand deterministic mutations, with no broken invariant.
@Suite struct FuzzRegressionTests {
    static let fixture = PackagePaths.fixtures + "/basic"

    static func kept(_ target: String) -> [(String, [UInt8])] {
        let dir = PackagePaths.fixtures + "/fuzz/" + target
        guard let d = opendir(dir) else { return [] }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if !name.hasPrefix(".") { names.append(name) }
        }
        closedir(d)
        return names.sorted().compactMap { n in Files.readBytes(dir + "/" + n).map { (n, $0) } }
    }

    static func run(_ t: FuzzTarget, _ input: [UInt8]) -> [String] {
        input.withUnsafeBufferPointer { t.run($0) }
    }

    @Test(arguments: FuzzTargets.all.map(\.name))
    func seedsAndKeptInputsHoldEveryInvariant(_ name: String) throws {
        let t = try #require(FuzzTargets.target(named: name))
        let seeds = FuzzTargets.seeds(for: t, fixture: Self.fixture)
        #expect(!seeds.isEmpty, "\(name) has seeds")
        for (i, s) in seeds.enumerated() { #expect(Self.run(t, s).isEmpty, "\(name) seed \(i): \(Self.run(t, s))") }
        for (file, input) in Self.kept(name) { #expect(Self.run(t, input).isEmpty, "\(name)/\(file): \(Self.run(t, input))") }
    }

    /// The findings of issue 10 are kept as `tree` inputs, and each really is the odd tree.
    @Test func theFindingsAreKeptAsTreeInputs() {
        let names = Self.kept("tree").map(\.0)
        for finding in ["found-10-digit-pid", "found-self-parent-and-cycle", "found-tty-range-dash", "found-int64-min",
                        "found-huge-times-rss", "found-stat-dev-zero", "found-fifo", "found-uptime-nan", "found-status-no-uid"] {
            #expect(names.contains(finding), "\(finding)")
        }
        let fifo = Self.kept("tree").first { $0.0 == "found-fifo" }?.1 ?? []
        let entries = fifo.withUnsafeBufferPointer { FuzzTree.decode($0) }
        #expect(entries.contains { $0.kind == .fifo && $0.path == ["100", "status"] })
    }

    /// Byte flips, truncations, insertions and splices of the seeds (a fixed generator: the
    /// same inputs every run), through every byte parser.
    @Test func deterministicMutationsOfTheSeeds() {
        var rng = SplitMix(state: 0x5e55_1017)
        for t in FuzzTargets.all where t.name != "tree" {
            let seeds = FuzzTargets.seeds(for: t, fixture: Self.fixture)
            // Big seeds (an ELF file, a maps file) cost more per round.
            let rounds = (seeds.map(\.count).max() ?? 0) > 4096 ? 200 : 3000
            for _ in 0..<rounds {
                var input = seeds[Int(rng.next() % UInt64(seeds.count))]
                Self.mutate(&input, &rng)
                let problems = Self.run(t, input)
                if !problems.isEmpty { Issue.record("\(t.name): \(problems) for \(input)"); break }
            }
        }
    }

    /// The same for whole trees (fewer: each builds a tree and scans it).
    @Test func deterministicMutationsOfTheTree() throws {
        var rng = SplitMix(state: 0x7ee5)
        let t = try #require(FuzzTargets.target(named: "tree"))
        let seed = FuzzTargets.seeds(for: t, fixture: Self.fixture)[0]
        for _ in 0..<60 {
            var input = seed
            for _ in 0..<(1 + Int(rng.next() % 8)) { Self.mutate(&input, &rng) }
            let problems = Self.run(t, input)
            if !problems.isEmpty { Issue.record("tree: \(problems)"); break }
        }
    }

    static func mutate(_ b: inout [UInt8], _ rng: inout SplitMix) {
        let interesting: [[UInt8]] = ["-9223372036854775808", "18446744073709551616", "4294967296", "-1", "0", " ", "\n",
                                      ")", "(", "\0", "\u{ff}", "-", "nan", "9999999999"].map { Array($0.utf8) }
        let at = b.isEmpty ? 0 : Int(rng.next() % UInt64(b.count))
        switch rng.next() % 5 {
        case 0 where !b.isEmpty: b[at] = UInt8(truncatingIfNeeded: rng.next())
        case 1: b.insert(contentsOf: interesting[Int(rng.next() % UInt64(interesting.count))], at: at)
        case 2 where !b.isEmpty: b.removeSubrange(at..<min(b.count, at + Int(rng.next() % 16) + 1))
        case 3: b = Array(b.prefix(at))
        default:
            let n = Int(rng.next() % 64)
            b.insert(contentsOf: (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
        }
    }
}
