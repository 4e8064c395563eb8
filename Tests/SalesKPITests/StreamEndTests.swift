import TestSupport
import Testing

@testable import SalesKPI

/// The end of every stream in a bounded run (`salespulse run --until-end`): every window gets
/// its final, and nothing runs on to the end of time (docs/guarantees.md, bounded runs).
@Suite("End of the streams")
struct StreamEndTests {
    var make = EventBuilder()

    @Test("a shard closes every open window, as far as the last one's end and no further")
    mutating func shardFinishes() {
        var settings = testSettings()
        settings.targets.set(Money(minorUnits: 100_000_000), for: .region("east"), period: .month)
        var h = ShardHarness(settings)
        h.apply(make.won("d1", 1000, at: "2026-03-01T00:30:00+08:00"), make.spend(10, at: "2026-03-03T10:00:00+08:00"))
        // 1 March's day and week (a Sunday), of the rep and of the region, closed on the way.
        #expect(h.finals.count == 4)
        h.shard.finish(effects: &h.effects)
        #expect(h.shard.finished && h.shard.openWindowCount == 0)
        // The rep's month and quarter; the region's day of the spend, its week, month, quarter.
        #expect(h.finals.count == 10)
        let quarterEnd = EventBuilder.t("2026-04-01T00:00:00+08:00")
        #expect(h.shard.watermark == quarterEnd)
        #expect(h.alerts.allSatisfy { $0.eventTime <= quarterEnd })
        #expect(h.alerts.contains { $0.rule == .targetSlipping })
        // Finishing again changes nothing.
        let n = h.effects.count
        h.shard.finish(effects: &h.effects)
        #expect(h.effects.count == n)
    }

    @Test("the rollup closes every company window once every shard has ended, and stays ended through a restore")
    mutating func rollupEnds() throws {
        let settings = testSettings(["day", "month"])
        var east = ShardHarness(settings)
        east.apply(make.won("d1", 1000, at: "2026-03-02T10:00:00+08:00"))
        var rollup = CompanyRollup(settings: settings, shards: 2)
        var out: [ShardEffect] = []
        east.shard.finish(effects: &east.effects)
        east.report(to: &rollup)
        rollup.shardWatermark(0, .max, effects: &out)
        #expect(!rollup.ended && out.isEmpty)
        rollup.shardWatermark(1, .max, effects: &out)
        #expect(rollup.ended)
        let finals = out.compactMap { if case .summary(let s) = $0, s.final { s } else { nil } }
        #expect(finals.map(\.windowName).sorted() == ["day", "month"])
        #expect(finals.allSatisfy { $0.aggregate.revenue == Money(minorUnits: 100_000) })
        #expect(rollup.progressWatermark == EventBuilder.t("2026-04-01T00:00:00+08:00"))
        #expect(finals.allSatisfy { $0.watermark == rollup.progressWatermark })
        let restored = try CompanyRollup.restore(settings: settings, shards: 2, records: rollup.takeChangelog())
        #expect(restored.ended)
    }
}
