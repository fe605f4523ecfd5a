import Testing
@testable import SessionCore
@testable import SessionUI

/// Every view at 80×24, 100×30 and 200×60 (issue 11): what fits where, what is cut with `…`,
/// which columns drop. Goldens `sizes-<view>-<W>x<H>`.
@Suite struct SizeGoldenTests {
    static let sizes = [(80, 24), (100, 30), (200, 60)]

    static func long() -> [Int32: ProcessInfo] {
        var procs = Fixture.processes()
        procs[1300]!.argv = .known("/root/.pyenv/versions/3.11.9/bin/python3.11 -m http.server --bind 127.0.0.1 --directory /srv/www/a/very/long/path 8000"
            .split(separator: " ").map { Array($0.utf8) })
        return procs
    }

    static func views() -> [(String, (inout AppState) -> Void)] {
        [
            ("tree", { s in s.openSessions = [1000, 2000, 3000]; s.rebuildRows() }),
            ("table", { s in press(&s, .char("t")) }),
            ("table-scrolled", { s in press(&s, .char("t")); s.select(.process(Fixture.id(1300))); press(&s, .right, .right) }),
            ("detail-pane", { s in s.select(.process(Fixture.id(1300))); press(&s, .char("i")) }),
            ("detail-view", { s in s.select(.process(Fixture.id(1300))); press(&s, .enter) }),
            ("detail-view-hangup", { s in s.select(.process(Fixture.id(1100))); press(&s, .enter, .char("7")) }),
            ("help", { s in press(&s, .char("?")) }),
            ("search", { s in press(&s, .char("/")); type(&s, "cc1") }),
            ("filter-text", { s in press(&s, .char("\\")); type(&s, "alice") }),
            ("signal-menu", { s in s.select(.process(Fixture.id(1100))); press(&s, .char("k")) }),
            ("tagged-confirm", { s in
                s.select(.process(Fixture.id(1100))); press(&s, .char(" "))
                s.select(.process(Fixture.id(1150))); press(&s, .char("c"))
                press(&s, .char("k"), .char("9"), .enter)
            }),
            ("detach", { s in s.select(.process(Fixture.id(1300))); _ = update(&s, .relaunchPlanned(Fixture.plan())) }),
            ("detach-in-place", { s in s.select(.process(Fixture.id(1300))); _ = update(&s, .detachPlanned(Fixture.detachPlan())) }),
            ("setup", { s in press(&s, .function(2)) }),
            ("detach-tagged", { s in
                s.select(.process(Fixture.id(1100))); press(&s, .char(" "))
                s.select(.process(Fixture.id(1300))); press(&s, .char(" "), .char("D"))
            }),
            ("paused-tagged", { s in
                s.select(.process(Fixture.id(1300))); press(&s, .char(" "), .char("Z"))
            }),
        ]
    }

    @Test(arguments: [0, 1, 2]) func everyViewAtEverySize(_ size: Int) {
        let (w, h) = Self.sizes[size]
        for (name, setup) in Self.views() {
            var s = Fixture.state(width: w, height: h, procs: Self.long())
            setup(&s)
            expectGolden("sizes-\(name)-\(w)x\(h)", s)
            // Nothing drawn past the edge, F10 always there.
            var screen = Screen(width: w, height: h)
            render(s, into: &screen)
            #expect(screen.line(h - 1).contains("F10"), "\(name) \(w)x\(h)")
        }
    }
}
