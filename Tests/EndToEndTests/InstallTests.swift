import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// `scripts/install` (issue 11): a release build with the Swift runtime linked in, the man page
/// and completions where each tool looks; the installed binary runs with the toolchain's
/// libraries out of reach (`env -i`, no LD_LIBRARY_PATH) and `ldd` lists no libswift*.
@Suite(.serialized) struct InstallTests {
    @Test func installedBinaryRunsWithoutTheSwiftToolchain() throws {
        let prefix = try TempDirectory.make("install")
        defer { TempDirectory.remove(prefix) }
        // The release build is incremental: scripts/test builds it before the tests.
        // The builder's PATH (swift), not the tests' minimal one.
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        let env = ["PATH=\(path)", "HOME=\(getenv("HOME").map { String(cString: $0) } ?? "/root")", "LANG=C.UTF-8"]
        let r = try Processes.run([PackagePaths.root + "/scripts/install", "--prefix", prefix], environment: env, timeout: 1800)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let bin = prefix + "/bin/sessiontop"
        #expect(access(bin, X_OK) == 0)
        for file in ["share/man/man1/sessiontop.1", "share/bash-completion/completions/sessiontop",
                     "share/zsh/site-functions/_sessiontop", "share/fish/vendor_completions.d/sessiontop.fish"] {
            let text = Files.read(prefix + "/" + file) ?? ""
            #expect(text.contains("sessiontop"), "\(file)")
        }
        #expect(Files.read(prefix + "/share/zsh/site-functions/_sessiontop")?.hasPrefix("#compdef sessiontop") == true)
        #expect(Files.read(prefix + "/share/fish/vendor_completions.d/sessiontop.fish")?.contains("complete -c 'sessiontop'") == true)
        // Each shell parses its completion script.
        for (shell, file) in [("bash", "share/bash-completion/completions/sessiontop"), ("zsh", "share/zsh/site-functions/_sessiontop"),
                              ("fish", "share/fish/vendor_completions.d/sessiontop.fish")] where access("/usr/bin/" + shell, X_OK) == 0 {
            let n = try Processes.run(["/usr/bin/" + shell, "-n", prefix + "/" + file])
            #expect(n.status == 0, "\(shell) -n: \(n.stderr)")
        }

        // No Swift runtime library is needed from anywhere.
        let ldd = try Processes.run(["ldd", bin])
        #expect(ldd.status == 0, "\(ldd.stderr)")
        #expect(!ldd.stdout.contains("libswift") && !ldd.stdout.contains("libFoundation") && !ldd.stdout.contains("not found"), "\(ldd.stdout)")
        // An empty environment: no PATH, no LD_LIBRARY_PATH, nothing pointing at the toolchain.
        let v = try Processes.run(["/usr/bin/env", "-i", bin, "--version"])
        #expect(v.status == 0 && v.stdout == SessiontopVersion.number + "\n", "\(v.stderr)")
        let snap = try Processes.run(["/usr/bin/env", "-i", bin, "snapshot", "--proc-root", PackagePaths.fixtures + "/basic", "--sid", "100"])
        #expect(snap.status == 0 && snap.stdout.contains("session 100 · tty pts/3"), "\(snap.stderr)")
        // The toolchain's own directory hidden for good measure (LD_LIBRARY_PATH at a place
        // with nothing in it): the same.
        let hidden = try Processes.run(["/usr/bin/env", "-i", "LD_LIBRARY_PATH=/nonexistent", bin, "hangup", "--json", "--proc-root", PackagePaths.fixtures + "/basic"])
        #expect(hidden.status == 0 && hidden.stdout.hasPrefix("{\"event\":\"hangup\""), "\(hidden.stderr)")
        // The man page renders and names every subcommand.
        let man = try Processes.run(["/usr/bin/env", "MANWIDTH=80", "man", "-l", prefix + "/share/man/man1/sessiontop.1"])
        if man.status == 0 {
            for sub in ["snapshot", "hangup", "signal", "daemonize", "relaunch", "--readonly", "--version"] {
                #expect(man.stdout.contains(sub), "man page: \(sub)")
            }
        }
        // Bad arguments: one line, 64.
        let bad = try Processes.run([PackagePaths.root + "/scripts/install", "--bogus"], environment: env)
        #expect(bad.status == 64 && bad.stderr.contains("unknown argument: --bogus"))
    }

    /// The checked-in man page is the argument parser's: every option of every subcommand is in it.
    @Test func manPageNamesEveryOption() throws {
        let page = try #require(Files.read(PackagePaths.root + "/docs/sessiontop.1"))
        for sub in ["top", "snapshot", "hangup", "signal", "daemonize", "relaunch"] {
            let help = try Processes.runSessiontop([sub, "--help"])
            #expect(page.contains("Em \(sub)"), "\(sub)")
            for word in help.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," }) where word.hasPrefix("--") && word.count > 3 {
                var opt = String(word.dropFirst(2))
                while let l = opt.last, !(l.isLetter || l.isNumber) { opt.removeLast() }
                if opt == "help" || opt.contains("=") || opt.isEmpty { continue }
                #expect(page.contains("Fl -" + opt) || page.contains(", -" + opt), "man page lacks --\(opt) of \(sub): run scripts/man")
            }
        }
    }
}
