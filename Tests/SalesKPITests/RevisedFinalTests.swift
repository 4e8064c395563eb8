import TestSupport
import Testing

@testable import SalesKPI

/// A corrected deal (a later win of the same deal) retracts the earlier win from windows that
/// are already final, and they are published again (docs/guarantees.md, revised finals).
@Suite("Revised finals")
struct RevisedFinalTests {
    var make = EventBuilder()
    let east = ScopeKey.region("east")
    let rep = ScopeKey.rep("r1", in: "east")
    let day1 = "2026-03-02T00:00:00+08:00"
    let day3 = "2026-03-04T00:00:00+08:00"
    let march = "2026-03-01T00:00:00+08:00"

    /// A win on 2 March, the next day's business, and its correction on 4 March.
    mutating func corrected(_ settings: KPISettings) -> ShardHarness {
        var h = ShardHarness(settings)
        h.apply(
            make.won("d1", 1000, at: "2026-03-02T10:00:00+08:00"), make.won("d2", 300, at: "2026-03-02T11:00:00+08:00"),
            make.won("d9", 50, at: "2026-03-03T12:00:00+08:00"))
        #expect(h.final(east, "day", startingAt: day1)?.aggregate.revenue == Money(minorUnits: 130_000))
        let d = h.apply(make.won("d1", 1200, at: "2026-03-04T09:00:00+08:00"))
        #expect(d == [.counted])
        return h
    }

    @Test("a correction after the window is final publishes a revised final; days add up to the month")
    mutating func revisedDay() {
        var h = corrected(testSettings(["day", "month"]))
        for scope in [east, rep] {
            let first = h.final(scope, "day", startingAt: day1)!
            let revised = h.latestFinal(scope, "day", startingAt: day1)!
            #expect(revised.revised && revised.final && !first.revised)
            #expect(revised.revision == first.revision + 1)
            #expect(revised.aggregate.won == 1 && revised.aggregate.revenue == Money(minorUnits: 30_000))
            #expect(revised.aggregate.cycleSketch.count == 1)
        }
        h.closeAll()
        var days = Money.zero
        for day in [day1, "2026-03-03T00:00:00+08:00", day3] {
            days.minorUnits += h.latestFinal(east, "day", startingAt: day)!.aggregate.revenue.minorUnits
        }
        let month = h.latestFinal(east, "month", startingAt: march)!
        #expect(!month.revised && month.aggregate.won == 3)
        #expect(days == month.aggregate.revenue && days == Money(minorUnits: 155_000))
        // Exactly one revision per scope: the day.
        #expect(h.finals.filter(\.revised).count == 2)
    }

    @Test("with revision_horizon off, or past the horizon, a final stays as published")
    mutating func noRevision() {
        var off = testSettings(["day", "month"])
        off.revisionHorizonSetting = 0
        var h = corrected(off)
        #expect(h.finals.filter(\.revised).isEmpty)
        var short = testSettings(["day", "month"])
        short.revisionHorizonSetting = 3_600_000
        // The horizon ends an hour after 2 March; the correction's event time is days later,
        // and a prune has passed (one runs per day of event time).
        h = corrected(short)
        #expect(h.finals.filter(\.revised).isEmpty)
        #expect(h.shard.revisableWindowCount <= 4)
    }

    @Test("only windows that counted a deal outcome are kept, and only for the horizon")
    mutating func keptWindows() {
        var settings = testSettings(["day", "month"])
        settings.revisionHorizonSetting = 2 * Timestamp.millisPerDay
        var h = ShardHarness(settings)
        h.apply(
            make.spend(10, at: "2026-03-02T10:00:00+08:00"), make.won("d1", 10, at: "2026-03-03T10:00:00+08:00"),
            make.created("d2", at: "2026-03-04T10:00:00+08:00"))
        // 3 March's day for the rep and the region; 2 March had spend only.
        #expect(h.shard.revisableWindowCount == 2)
        h.apply(make.created("d3", at: "2026-03-07T10:00:00+08:00"))
        #expect(h.shard.revisableWindowCount == 0)
        let log = h.shard.takeChangelog().filter { $0.key.hasPrefix("c|") }
        #expect(log.count == 2 && log.allSatisfy { $0.value == nil })
    }

    @Test("a restored shard revises the finals it kept, as one that never stopped")
    mutating func restored() throws {
        let settings = testSettings(["day", "month"])
        var a = ShardHarness(settings)
        var b = ShardHarness(settings)
        let first = [
            make.won("d1", 1000, at: "2026-03-02T10:00:00+08:00"), make.lost("d5", at: "2026-03-02T11:00:00+08:00"),
            make.won("d9", 50, at: "2026-03-03T12:00:00+08:00"),
        ]
        let correction = [
            make.won("d1", 1200, at: "2026-03-04T09:00:00+08:00"), make.lost("d5", at: "2026-03-04T10:00:00+08:00"),
        ]
        for e in first {
            a.apply(e)
            b.apply(e)
        }
        var restored = ShardHarness(settings)
        restored.shard = try ShardProcessor.restore(settings: settings, records: b.shard.takeChangelog())
        #expect(restored.shard.revisableWindowCount == a.shard.revisableWindowCount)
        for e in correction {
            a.apply(e)
            restored.apply(e)
        }
        // Each correction revises the day of the rep and of the region.
        let revisedA = a.finals.filter(\.revised)
        #expect(revisedA.count == 4)
        #expect(revisedA.map(\.aggregate) == restored.finals.filter(\.revised).map(\.aggregate))
        #expect(revisedA.map(\.revision) == restored.finals.filter(\.revised).map(\.revision))
        #expect(revisedA.suffix(2).allSatisfy { $0.aggregate.won == 0 && $0.aggregate.lost == 0 })
    }

    @Test("the company final follows a region's revised final, before and after its own close and restore")
    mutating func companyRevised() throws {
        let settings = testSettings(["day", "month"])
        let day = Window(kind: 0, start: EventBuilder.t(day1), end: EventBuilder.t("2026-03-03T00:00:00+08:00"))
        func companyDays(_ effects: [ShardEffect]) -> [Summary] {
            effects.compactMap { e -> Summary? in
                guard case .summary(let s) = e, s.scope == .company, s.final, s.window == day else { return nil }
                return s
            }
        }
        var h = ShardHarness(settings)
        var rollup = CompanyRollup(settings: settings, shards: 1)
        var effects: [ShardEffect] = []
        h.apply(
            make.won("d1", 1000, at: "2026-03-02T10:00:00+08:00"),
            make.won("w1", 70, at: "2026-03-02T10:30:00+08:00", region: "west"),
            make.won("d9", 50, at: "2026-03-03T12:00:00+08:00"))
        h.report(to: &rollup)
        rollup.shardWatermark(0, h.shard.watermark, effects: &effects)
        #expect(companyDays(effects).map(\.aggregate.revenue) == [Money(minorUnits: 107_000)])
        // The correction reaches the rollup after the company day is final.
        h.effects = []
        h.apply(make.won("d1", 1200, at: "2026-03-04T09:00:00+08:00"))
        // Published with the region's revised final that caused it, not at the next tick.
        effects = h.report(to: &rollup)
        let revised = companyDays(effects)
        #expect(revised.count == 1)
        #expect(revised.first?.revised == true && revised.first?.revision == 2)
        #expect(revised.first?.aggregate.revenue == Money(minorUnits: 7_000) && revised.first?.aggregate.won == 1)
        #expect(rollup.lateSummaries == 0)
        // Kept through a restore: a second correction revises it again.
        var restored = try CompanyRollup.restore(settings: settings, shards: 1, records: rollup.takeChangelog())
        #expect(restored.finals[day]?.revision == 2)
        h.effects = []
        h.apply(make.won("w1", 90, at: "2026-03-04T10:00:00+08:00", region: "west"))
        let again = companyDays(h.report(to: &restored))
        #expect(again.count == 1 && again.first?.revision == 3 && again.first?.aggregate.won == 0)
    }

    @Test("a target tracker takes the revised day's revenue")
    mutating func trackerFollows() {
        var settings = testSettings(["day", "month"])
        settings.targets.set(Money(minorUnits: 10_000_000), for: east, period: .month)
        var h = corrected(settings)
        let key = ShardProcessor.TrackerKey(scope: east, period: .month, start: EventBuilder.t(march))
        // Days 2 and 3 closed with 1,300 + 50 yuan; the correction took 1,000 back.
        #expect(h.shard.trackers[key]?.revenueSoFar == Money(minorUnits: 35_000))
        h.closeAll()
    }
}
