import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// The D-Bus client: the wire format on its own, then through a real `dbus-daemon` (a private
/// bus in a temp dir) with a stand-in for logind that this test serves, checked with `busctl`
/// (systemd's own client) and used by the real CLI, which asks "logind" over that bus.
@Suite(.serialized) struct DBusTests {
    @Test func wireRoundTripAndNoTrapOnDamage() throws {
        var m = DBusMessage(kind: .methodCall, path: "/org/freedesktop/login1", interface: "org.freedesktop.DBus.Properties",
                            member: "Get", destination: "org.freedesktop.login1",
                            body: [.string("org.freedesktop.login1.Manager"), .string("KillUserProcesses")])
        m.serial = 7
        let bytes = DBusWire.encode(m)
        #expect(try DBusWire.decode(bytes) == m)
        var reply = DBusMessage(kind: .methodReturn, body: [.variant(.array(element: "s", [.string("root"), .string("ann")])), .variant(.bool(true))])
        reply.replySerial = 7; reply.serial = 9; reply.destination = ":1.4"
        #expect(try DBusWire.decode(DBusWire.encode(reply)) == reply)
        var rng = SplitMix(state: 3)
        for _ in 0..<20_000 {
            var b = bytes
            for _ in 0...rng.below(4) { b[rng.below(b.count)] = UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? DBusWire.decode(b)
            _ = try? DBusWire.decode(Array(b.prefix(rng.below(b.count))))
        }
    }

    /// A private bus; its socket at `<root>/run/dbus/system_bus_socket`, where the logind reader
    /// looks under a config root.
    final class PrivateBus {
        let root: String
        let pid: Int32
        var socket: String { root + "/run/dbus/system_bus_socket" }

        init() throws {
            root = try TempDirectory.make("dbus")
            #expect(try Processes.run(["/bin/mkdir", "-p", root + "/run/dbus"]).status == 0)
            let config = root + "/bus.conf"
            try write(config, """
                <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
                 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
                <busconfig>
                  <type>custom</type>
                  <listen>unix:path=\(root)/run/dbus/system_bus_socket</listen>
                  <auth>EXTERNAL</auth>
                  <policy context="default">
                    <allow send_destination="*" eavesdrop="true"/>
                    <allow eavesdrop="true"/>
                    <allow own="*"/>
                  </policy>
                </busconfig>

                """)
            let devnull = open("/dev/null", O_RDWR | O_CLOEXEC)
            defer { close(devnull) }
            pid = try Processes.spawn(["/usr/bin/dbus-daemon", "--nofork", "--config-file=\(config)"]) {
                $0.executable = "/usr/bin/dbus-daemon"
                $0.environment = Processes.defaultEnvironment()
                $0.fileDescriptors = [(0, devnull), (1, devnull), (2, devnull)]
            }
            let s = root + "/run/dbus/system_bus_socket"
            // The socket file appears at bind(), before listen(): wait until a connect succeeds.
            try #require(waitUntil(timeout: 10) { Self.accepts(s) }, "dbus-daemon did not listen")
        }

        static func accepts(_ path: String) -> Bool {
            let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { return false }
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                for (i, b) in bytes.enumerated() { raw[i] = b }
            }
            return withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
                }
            }
        }

        func stop() {
            Processes.killAndReap(pid)
            TempDirectory.remove(root)
        }
    }

    /// Stands in for logind: owns org.freedesktop.login1 and answers Properties.Get.
    final class FakeLogind {
        let bus: DBusConnection
        var properties: [String: DBusValue]

        init(socket: String, properties: [String: DBusValue]) throws {
            bus = try DBusConnection(address: "unix:path=" + socket, timeout: 2)
            self.properties = properties
            let r = try bus.call(DBusMessage(kind: .methodCall, path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus",
                                             member: "RequestName", destination: "org.freedesktop.DBus",
                                             body: [.string("org.freedesktop.login1"), .uint32(4)]))
            #expect(r.body == [.uint32(1)])  // DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER
        }

        /// Answers calls until `done()` says stop.
        func serve(until done: () -> Bool) {
            while !done() {
                guard let m = try? bus.receive(until: monotonicSeconds() + 0.05), m.kind == .methodCall else { continue }
                var reply: DBusMessage
                if m.interface == "org.freedesktop.DBus.Properties", m.member == "Get",
                   m.body.count == 2, case .string("org.freedesktop.login1.Manager") = m.body[0],
                   case .string(let name) = m.body[1], let v = properties[name] {
                    reply = DBusMessage(kind: .methodReturn, body: [.variant(v)])
                } else {
                    reply = DBusMessage(kind: .error, body: [.string("no such property")])
                    reply.errorName = "org.freedesktop.DBus.Error.UnknownProperty"
                }
                reply.flags = 0
                reply.replySerial = m.serial
                reply.destination = m.sender
                _ = try? bus.send(reply)
            }
        }
    }

    /// Runs `argv` while the fake logind serves; its output.
    func runServing(_ logind: FakeLogind, _ argv: [String]) throws -> String {
        let dir = try TempDirectory.make("dbus-out")
        defer { TempDirectory.remove(dir) }
        let out = open(dir + "/out", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let pid = try Processes.spawn(argv) {
            $0.executable = argv[0]
            $0.environment = Processes.defaultEnvironment()
            $0.fileDescriptors = [(1, out), (2, out)]
        }
        close(out)
        var status: Int32?
        let deadline = monotonicSeconds() + 20
        logind.serve { status = Processes.reap(pid, within: 0); return status != nil || monotonicSeconds() > deadline }
        if status == nil { Processes.killAndReap(pid) }
        return Files.read(dir + "/out") ?? ""
    }

    @Test func askingLogindOverARealBus() throws {
        let bus = try PrivateBus()
        defer { bus.stop() }
        let logind = try FakeLogind(socket: bus.socket, properties: [
            "KillUserProcesses": .bool(true),
            "KillOnlyUsers": .array(element: "s", []),
            "KillExcludeUsers": .array(element: "s", [.string("root")]),
        ])
        // systemd's own client reads our stand-in's answer: the wire format is right.
        let busctl = try runServing(logind, ["/usr/bin/busctl", "--address=unix:path=\(bus.socket)", "get-property",
                                             "org.freedesktop.login1", "/org/freedesktop/login1",
                                             "org.freedesktop.login1.Manager", "KillUserProcesses"])
        #expect(busctl == "b true\n", "\(busctl)")
        // The real CLI asks "logind" over the bus found under --config-root; no logind.conf sets
        // KillUserProcesses there, so without the bus the verdict would be hedged.
        let proc = try TempDirectory.make("dbus-proc")
        defer { TempDirectory.remove(proc) }
        #expect(try Processes.run(["sh", "-c", "cp -a '\(PackagePaths.fixtures)/basic/.' '\(proc)'"]).status == 0)
        for pid in ["100", "200", "300", "301", "700"] {
            try write("\(proc)/\(pid)/cgroup", "0::/user.slice/user-1000.slice/session-5.scope\n")
        }
        #expect(try Processes.run(["/bin/mkdir", "-p", bus.root + "/run/systemd/sessions"]).status == 0)
        try write(bus.root + "/run/systemd/sessions/5", "LEADER=1\n")
        let out = try runServing(logind, [PackagePaths.binary, "hangup", "--event", "logout", "--tty", "pts/3", "--json",
                                          "--proc-root", proc, "--config-root", bus.root])
        #expect(out.contains("{\"pid\":700,\"sid\":700,\"pgid\":700,\"command\":\"backupd --daemon\",\"verdict\":{\"fate\":\"dies\",\"by\":\"logind\",\"certain\":true"), "\(out.prefix(400))")
        #expect(out.contains("KillUserProcesses=yes (logind over D-Bus)"))
    }

    @Test func noLogindOnTheBusFallsBackToTheFiles() throws {
        let bus = try PrivateBus()
        defer { bus.stop() }
        var p = LogindPolicy()
        LogindPolicyReader.askLogind(socket: bus.socket, into: &p)
        #expect(!p.fromDBus && p.killUserProcesses == nil)
        #expect(p.dbusNote?.contains("org.freedesktop.DBus.Error.NameHasNoOwner") == true, "\(p.dbusNote ?? "")")
    }
}
