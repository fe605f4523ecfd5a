import Testing
import Glibc
import TestSupport
@testable import SessionCore

/// The safe sender against real processes: pidfd + start time, groups and sessions re-resolved,
/// guard rails, and a pid that is really recycled.
@Suite struct ActionsSignalTests {
    @Test func sendsToAProcessThroughItsPidfd() throws {
        let pid = try Processes.spawn(["sleep", "30"])
        defer { Processes.killAndReap(pid) }
        let id = try liveIdentity(pid)
        let report = try SignalSender().send(Signals.term, to: .process(id))
        #expect(report.allSent)
        #expect(report.members.map(\.identity) == [id])
        #expect(Processes.termSignal(Processes.reap(pid)) == SIGTERM)
    }

    @Test func realTimeSignalsByName() throws {
        let pid = try Processes.spawn(["sleep", "30"])
        defer { Processes.killAndReap(pid) }
        let sig = try #require(Signals.number(named: "RTMIN+2"))
        let report = try SignalSender().send(sig, to: .process(try liveIdentity(pid)))
        #expect(report.allSent)
        // A real-time signal's default action terminates (signal(7)).
        #expect(Processes.termSignal(Processes.reap(pid)) == 36)
    }

    @Test func vanishedProcessIsReportedNotSent() throws {
        let pid = try Processes.spawn(["sleep", "30"])
        let id = try liveIdentity(pid)
        Processes.killAndReap(pid)
        let report = try SignalSender().send(Signals.term, to: .process(id))
        #expect(!report.allSent)
        #expect(report.members.first?.outcome == .vanished)
        #expect(report.members.first?.line(signal: Signals.term).contains("no such process") == true)
    }

    /// Start a process, record its identity, let it die and be reaped, make the kernel hand
    /// the same pid to a new process (ns_last_pid, pid_namespaces(7)), and show the signal is
    /// refused and the new process untouched.
    @Test func recycledPidIsRefused() throws {
        let old = try Processes.spawn(["sleep", "30"])
        let oldID = try liveIdentity(old)
        // Start times are clock ticks: let one pass so the two processes differ.
        usleep(30_000)
        Processes.killAndReap(old)
        let reused = try Processes.respawnWithPid(old, ["sleep", "30"]) ?? -1
        try #require(reused == old, "the pid was not handed out again")
        defer { Processes.killAndReap(reused) }
        let newID = try liveIdentity(reused)
        #expect(newID.startTime != oldID.startTime)

        let report = try SignalSender().send(Signals.kill, to: .process(oldID))
        #expect(report.members.first?.outcome == .recycled(foundStartTime: newID.startTime))
        #expect(report.members.first?.line(signal: Signals.kill).contains("recycled") == true)
        // The new process is untouched.
        usleep(50_000)
        var status: Int32 = 0
        #expect(waitpid(reused, &status, WNOHANG) == 0)
        let p = try #require(try SnapshotReader().readProcess(reused))
        #expect(!p.state.isGone)
    }

    @Test func groupIsResolvedAtSendTimeAndEveryMemberSignalled() throws {
        let leader = try Processes.spawn(["sleep", "30"]) { $0.processGroup = 0 }
        defer { Processes.killAndReap(leader) }
        let second = try Processes.spawn(["sleep", "31"]) { $0.processGroup = leader }
        defer { Processes.killAndReap(second) }
        let sender = try SignalSender()
        let report = sender.send(Signals.term, to: .group(leader))
        #expect(report.refusal == nil)
        #expect(Set(report.members.map(\.identity.pid)) == [leader, second])
        #expect(report.allSent)
        #expect(Processes.termSignal(Processes.reap(leader)) == SIGTERM)
        #expect(Processes.termSignal(Processes.reap(second)) == SIGTERM)
        #expect(sender.send(Signals.term, to: .group(leader)).refusal == .noMembers)
    }

    @Test func sessionIsResolvedAtSendTime() throws {
        Processes.becomeSubreaper()  // the shell's children are reparented to us, and reaped
        // A shell leading a new session with two background children in its session.
        let sh = try Processes.spawn(["/bin/sh", "-c", "sleep 30 & sleep 30 & wait"]) { $0.newSession = true }
        defer { Processes.killAndReap(sh) }
        let sender = try SignalSender()
        #expect(waitUntil(timeout: 3) { sender.resolve(.session(sh)).count == 3 })
        let members = sender.resolve(.session(sh)).map(\.pid)
        defer { for m in members where m != sh { Processes.killAndReap(m) } }
        let report = sender.send(Signals.kill, to: .session(sh))
        #expect(report.allSent)
        #expect(Set(report.members.map(\.identity.pid)) == Set(members))
        #expect(Processes.termSignal(Processes.reap(sh)) == SIGKILL)
    }

    @Test func guardRailsRefuseInitKernelThreadsAndSelf() throws {
        let sender = try SignalSender()
        let reader = try SnapshotReader()
        let initID = try #require(reader.readProcess(1)).identity
        let r1 = sender.send(0, to: .process(initID))
        #expect(r1.refusal == .initProcess)
        #expect(r1.sentCount == 0)
        let kthreadd = try #require(reader.readProcess(2))
        #expect(kthreadd.isKernelThread)
        #expect(sender.send(0, to: .process(kthreadd.identity)).refusal == .kernelThread(pid: 2))
        let me = try #require(reader.readProcess(getpid())).identity
        #expect(sender.send(0, to: .process(me)).refusal == .sessiontopItself(pid: getpid()))
        // A group or session holding sessiontop is refused as a whole: nothing is sent.
        let mine = sender.send(0, to: .group(getpgrp()))
        #expect(mine.refusal == .sessiontopItself(pid: getpid()))
        #expect(mine.members.isEmpty)
        // --force lets signal 0 (an existence check) through.
        #expect(sender.send(0, to: .process(initID), force: true).allSent)
    }

    @Test func waitForExitSeesTheProcessEnd() throws {
        let pid = try Processes.spawn(["sleep", "0.2"])
        defer { Processes.killAndReap(pid) }
        let sender = try SignalSender()
        let id = try liveIdentity(pid)
        #expect(!sender.waitForExit(id, timeout: 0.01))
        #expect(sender.waitForExit(id, timeout: 5))
    }
}

extension ActionsSignalTests {
    /// A stopped process holds SIGTERM pending: terminate() continues it, so no SIGKILL is needed.
    @Test func terminateWakesAStoppedProcess() throws {
        let pid = try Processes.spawn(["sleep", "30"])
        defer { Processes.killAndReap(pid) }
        let sender = try SignalSender()
        let id = try liveIdentity(pid)
        #expect(sender.send(Signals.stop, to: .process(id)).allSent)
        #expect(waitUntil(timeout: 3) { (try? SnapshotReader())?.readProcess(pid)?.state == .stopped })
        let reports = sender.terminate(id, timeout: 3)
        #expect(reports.map(\.signal) == [Signals.term, Signals.cont])
        #expect(Processes.termSignal(Processes.reap(pid)) == SIGTERM)
    }
}

extension ActionsSignalTests {
    @Test func menuListsEverySignalOnceCommonFirst() {
        let all = SignalMenu.all
        #expect(all.count == 62 && Set(all).count == 62)
        #expect(Array(all.prefix(4)) == [Signals.term, Signals.int, Signals.hup, Signals.kill])
        #expect(!all.contains(32) && !all.contains(33))
        #expect(SignalMenu.needsConfirmation(Signals.kill) && SignalMenu.needsConfirmation(Signals.stop))
        #expect(!SignalMenu.needsConfirmation(Signals.cont) && !SignalMenu.needsConfirmation(28))
        #expect(SignalMenu.common.allSatisfy { !Signals.meaning(of: $0).hasPrefix("signal ") })
        // Every entry of the menu has a meaning of its own (signal(7)), not just its number.
        #expect(SignalMenu.all.allSatisfy { !Signals.meaning(of: $0).hasPrefix("signal ") })
    }
}
