import TestSupport
import Testing

@testable import SalesKPI

/// Valid-looking events a bad producer sends: dates from the future, amounts that would overflow
/// a window, invented names past the scope limits, ids that would corrupt scope keys or text.
@Suite("Bad producers")
struct BadProducerTests {
    let decoder = EventDecoder(fx: FXTable(reportingCurrency: "CNY", rates: [:]))

    static func won(region: String = "east", rep: String = "r1", at: String = "2026-03-01T10:00:00+08:00") -> String {
        let r = region.unicodeScalars.map {
            $0.isASCII && $0.value >= 0x20 ? String($0) : String(format: "\\u%04x", $0.value)
        }
        .joined()
        let p = rep.unicodeScalars.map {
            $0.isASCII && $0.value >= 0x20 ? String($0) : String(format: "\\u%04x", $0.value)
        }
        .joined()
        return
            #"{"event_id":"e1","type":"deal.won","occurred_at":"\#(at)","region":"\#(r)","rep_id":"\#(p)","deal_id":"d1","amount":"10.00","currency":"CNY","created_at":"2026-02-01T10:00:00+08:00"}"#
    }

    func rejection(_ json: String, now: EpochMillis = EventBuilder.t("2026-12-03T00:00:00Z")) -> Rejection? {
        let outcome = Array(json.utf8).withUnsafeBytes { decoder.decode($0, now: now) }
        if case .rejected(let r) = outcome { return r }
        return nil
    }

    @Test("an event dated further than max_future after the wall clock is future_timestamp; up to it, accepted")
    func futureTimestamp() {
        let now = EventBuilder.t("2026-03-01T10:00:00+08:00")
        #expect(rejection(Self.won(at: "2099-03-01T10:00:00+08:00"), now: now)?.reason == .futureTimestamp)
        #expect(rejection(Self.won(at: "2026-03-01T10:05:00+08:00"), now: now) == nil, "5 minutes ahead is allowed")
        #expect(rejection(Self.won(at: "2026-03-01T10:05:00.001+08:00"), now: now)?.reason == .futureTimestamp)
        // The detail names both times, so the dead letter explains itself.
        let detail = rejection(Self.won(at: "2099-03-01T10:00:00+08:00"), now: now)?.detail ?? ""
        #expect(detail.contains("2099-03-01") && detail.contains("2026-03-01"))
    }

    @Test(
        "region and rep ids with '/', control or format characters, or too long are invalid_field",
        arguments: [
            ("east/west", "r1"), ("east", "r/1"), ("east\n", "r1"), ("east", "r1\u{0007}"), ("ea\u{202E}st", "r1"),
            (String(repeating: "e", count: 129), "r1"), ("east", String(repeating: "r", count: 129)),
        ])
    func badIds(region: String, rep: String) {
        let r = rejection(Self.won(region: region, rep: rep))
        #expect(r?.reason == .invalidField, "\(r?.detail ?? "accepted")")
    }

    @Test("ids in any script, with spaces and punctuation other than '/', are accepted")
    func goodIds() {
        for (region, rep) in [
            ("华东区", "张伟"), ("east coast", "o'brien.k@example.com"), (String(repeating: "e", count: 128), "r"),
        ] {
            #expect(rejection(Self.won(region: region, rep: rep)) == nil, "\(region) \(rep)")
        }
    }

    /// The largest amount the decoder accepts, 10^12 yuan: 90 of them fit one window's bound of
    /// 2^53 minor units, the 91st does not.
    static let maxAmountYuan: Int64 = 1_000_000_000_000

    @Test(
        "an event that would pass a window's bound is amount_overflow; the windows stay exact, a re-send is refused again"
    )
    mutating func amountOverflow() throws {
        var make = EventBuilder()
        var h = ShardHarness(testSettings(["day", "month"]))
        for k in 0..<90 {
            let d = h.apply(make.won("d\(k)", Self.maxAmountYuan, at: "2026-03-02T10:00:00+08:00"))
            #expect(d == [.counted])
        }
        let overflowing = make.won("d90", Self.maxAmountYuan, at: "2026-03-02T11:00:00+08:00")
        let refused = h.apply(overflowing)
        guard case .rejected(let r)? = refused.first else {
            Issue.record("not refused: \(refused)")
            return
        }
        #expect(r.reason == .amountOverflow)
        // Sent again: still not counted, so refused again rather than dropped as a duplicate.
        #expect(h.apply(overflowing) == refused)
        // Another day of the same month: the day fits, the month does not.
        let nextDay = h.apply(make.won("d91", Self.maxAmountYuan, at: "2026-03-03T10:00:00+08:00"))
        #expect(nextDay.first.map { if case .rejected = $0 { true } else { false } } == true)
        // A small event in a month with room counts.
        #expect(h.apply(make.won("d92", 1, at: "2026-04-03T10:00:00+08:00")) == [.counted])
        h.closeAll()
        let expected = Money(minorUnits: 90 * Self.maxAmountYuan * 100)
        let day = try #require(h.final(.region("east"), "day", startingAt: "2026-03-02T00:00:00+08:00"))
        let month = try #require(h.final(.region("east"), "month", startingAt: "2026-03-01T00:00:00+08:00"))
        let rep = try #require(h.final(.rep("r1", in: "east"), "month", startingAt: "2026-03-01T00:00:00+08:00"))
        #expect(day.aggregate.revenue == expected && day.aggregate.won == 90)
        #expect(month.aggregate.revenue == expected && rep.aggregate.revenue == expected)
    }

    @Test("a restored shard knows how full its windows are")
    mutating func overflowAfterRestore() throws {
        var make = EventBuilder()
        let settings = testSettings(["month"])
        var h = ShardHarness(settings)
        for k in 0..<90 { h.apply(make.won("d\(k)", Self.maxAmountYuan, at: "2026-03-02T10:00:00+08:00")) }
        var restored = ShardHarness(settings)
        restored.shard = try ShardProcessor.restore(settings: settings, records: h.shard.takeChangelog())
        let d = restored.apply(make.won("d90", Self.maxAmountYuan, at: "2026-03-02T11:00:00+08:00"))
        #expect(d.first.map { if case .rejected(let r) = $0 { r.reason == .amountOverflow } else { false } } == true)
    }

    @Test("regions past max_regions and reps past max_reps_per_region are scope_limit; known scopes still count")
    mutating func scopeLimits() {
        var make = EventBuilder()
        var settings = testSettings(["month"])
        settings.maxRegions = 3
        settings.maxRepsPerRegion = 2
        var h = ShardHarness(settings)
        let at = "2026-03-02T10:00:00+08:00"
        func reason(_ d: [Disposition]) -> RejectReason? {
            if case .rejected(let r)? = d.first { r.reason } else { nil }
        }
        for region in ["a", "b", "c"] {
            #expect(h.apply(make.won("\(region)1", 1, at: at, region: region)) == [.counted])
        }
        #expect(reason(h.apply(make.won("d1", 1, at: at, region: "d"))) == .scopeLimit)
        #expect(h.apply(make.won("a2", 1, at: at, region: "a", rep: "r2")) == [.counted])
        #expect(reason(h.apply(make.won("a3", 1, at: at, region: "a", rep: "r3"))) == .scopeLimit)
        // Known scopes keep counting; the refused ones left nothing behind.
        #expect(h.apply(make.won("a4", 1, at: at, region: "a", rep: "r2")) == [.counted])
        #expect(h.shard.scopeCount == 7, "3 regions and 4 reps")
        h.closeAll()
        #expect(!h.finals.contains { $0.scope.region == "d" || $0.scope.rep == "r3" })
        #expect(h.final(.region("a"), "month", startingAt: "2026-03-01T00:00:00+08:00")?.aggregate.won == 3)
    }

    @Test("a rep idle for rep_idle_timeout leaves memory and the changelog and frees its place; a busy one stays")
    mutating func idleRepsLeave() throws {
        var make = EventBuilder()
        var settings = testSettings(["day"])
        settings.maxRepsPerRegion = 2
        settings.repIdleMillis = 30 * Timestamp.millisPerDay
        var h = ShardHarness(settings)
        h.apply(
            make.won("d1", 100, at: "2026-01-05T10:00:00+08:00", rep: "old"),
            make.acquired(at: "2026-01-05T11:00:00+08:00", rep: "old"),
            make.won("d2", 100, at: "2026-01-20T10:00:00+08:00", rep: "busy"))
        _ = h.shard.takeChangelog()
        // 30 days after its last event the old rep has no open window: it is dropped at the
        // next daily prune; the busy one, active 15 days later, is not.
        h.apply(make.won("d3", 100, at: "2026-02-06T10:00:00+08:00", rep: "busy"))
        #expect(h.shard.evictedReps == 1)
        #expect(h.shard.scopeCount == 2, "east and east/busy")
        let records = h.shard.takeChangelog()
        let tombstones = records.filter { $0.value == nil && $0.key.hasPrefix("s|") }.map(\.key)
        #expect(tombstones == [ShardProcessor.scopeKey(.rep("old", in: "east"))])
        // Its place is free: a third rep is admitted under max_reps_per_region = 2.
        #expect(h.apply(make.won("d4", 100, at: "2026-02-06T11:00:00+08:00", rep: "new")) == [.counted])
        // A restored shard does not bring it back, and remembers when the others were last active.
        // (With room for a third rep, to see one come back.)
        settings.maxRepsPerRegion = 3
        var restored = ShardHarness(settings)
        restored.shard = try ShardProcessor.restore(settings: settings, records: records + h.shard.takeChangelog())
        #expect(restored.shard.scopeCount == 3)
        #expect(restored.shard.evictedReps == 0)
        // Back after it left: counted as a new rep, without the customers it had.
        restored.apply(make.won("d5", 100, at: "2026-02-07T10:00:00+08:00", rep: "old"))
        restored.closeAll(through: "2026-02-09T00:00:00Z")
        let back = restored.final(.rep("old", in: "east"), "day", startingAt: "2026-02-07T00:00:00+08:00")
        #expect(back?.aggregate.won == 1 && back?.aggregate.activeCustomersStart == 0)
        // The region keeps them.
        #expect(
            restored.final(.region("east"), "day", startingAt: "2026-02-07T00:00:00+08:00")?.aggregate
                .activeCustomersStart == 1)
    }

    @Test("names in alert texts are data: mentions and markup neutralized, control characters dropped")
    func namesAreData() {
        let spike = CACSpikeDetector.Spike(cac: Money(minorUnits: 500_000), baseline: 1_000, threshold: 2)
        for locale in [AlertLocale.en, .zhCN] {
            let text = AlertText.cacSpike(
                spike, scope: .rep("<!channel> <@U123>", in: "@all"), period: "month", periodStart: "2026-03-01",
                newCustomers: 3, factor: 2, currency: "CNY", locale: locale)
            #expect(!text.contains("@all") && !text.contains("<!channel>") && !text.contains("<@"), "\(text)")
            #expect(text.contains("@\u{200B}all") && text.contains("‹!channel›"))
        }
        #expect(DisplayName.of("east\u{202E}\n<at user_id=\"all\">") == "east‹at user_id=\"all\"›")
        #expect(DisplayName.of("华东 east-1") == "华东 east-1")
    }

    @Test("a changelog with windows of a kind no longer configured restores without them, and runs on")
    mutating func restoreDropsUnknownWindowKinds() throws {
        var make = EventBuilder()
        var h = ShardHarness(testSettings(["day", "week", "month"]))
        h.apply(make.won("d1", 100, at: "2026-03-02T10:00:00+08:00"))
        // The month window (kind 2) is gone from the configuration the shard restarts with.
        var restored = ShardHarness(testSettings(["day", "week"]))
        restored.shard = try ShardProcessor.restore(settings: restored.shard.settings, records: h.shard.takeChangelog())
        restored.apply(make.won("d2", 50, at: "2026-03-02T11:00:00+08:00"))
        restored.closeAll()
        #expect(restored.finals.allSatisfy { $0.windowName == "day" || $0.windowName == "week" })
        let day = try #require(restored.final(.region("east"), "day", startingAt: "2026-03-02T00:00:00+08:00"))
        #expect(day.aggregate.revenue == Money(minorUnits: 15_000))
    }

    @Test("company sums saturate instead of trapping")
    func companySaturates() {
        var a = KPIAggregate()
        a.revenue = Money(minorUnits: .max - 5)
        a.won = .max - 1
        var b = KPIAggregate()
        b.revenue = Money(minorUnits: 10)
        b.won = 3
        a.merge(b)
        #expect(a.revenue.minorUnits == .max && a.won == .max)
    }

    @Test("a year without events closes only the windows events opened: no final per empty window")
    func gapMakesNoStorm() {
        var make = EventBuilder()
        let settings = testSettings(["1h", "day", "week", "month", "quarter"])
        var shard = ShardHarness(settings)
        shard.apply(
            make.won("d1", 100, at: "2025-03-02T10:00:00+08:00"),
            make.won("d2", 100, at: "2025-03-02T10:30:00+08:00", region: "west", rep: "w1"))
        #expect(shard.finals.isEmpty)
        shard.apply(make.won("d3", 100, at: "2026-03-02T10:00:00+08:00"))
        // Two regions and two reps, one window of each kind: 4 × 5. (Before, every region had
        // every window: 8,760 hours, 365 days, … each with a final.)
        #expect(shard.finals.count == 20, "\(shard.finals.count) finals")
        #expect(shard.finals.allSatisfy { $0.window.start < EventBuilder.t("2025-07-01T00:00:00+08:00") })
        #expect(shard.shard.openWindowCount == 10)
    }
}
