import Foundation
import TestSupport
import Testing

@testable import SalesKPI

/// Period-over-period comparisons in region and company summaries: the window before (环比)
/// and the same window a year earlier (同比), known only from the scope's first closed window on.
@Suite("Comparisons")
struct ComparisonTests {
    typealias Interval = (start: EpochMillis, end: EpochMillis)

    private func t(_ s: String) -> EpochMillis { EventBuilder.t(s) }

    @Test("previous and year-earlier windows across daylight saving time (America/New_York)")
    func calendar() throws {
        let c = try #require(BusinessCalendar(timeZoneIdentifier: "America/New_York"))
        func check(_ unit: WindowSpec.CalendarUnit, _ start: String, previous: String, yearEarlier: String) {
            let p = c.previous(unit, before: t(start))
            let y = c.yearEarlier(unit, than: t(start))
            #expect(p.start == t(previous) && p.end == t(start), "\(unit) \(start) previous")
            #expect(y.start == t(yearEarlier), "\(unit) \(start) year earlier: \(y.start)")
        }
        // DST began 2026-03-08 and 2025-03-09; it ended 2025-11-02.
        check(
            .week, "2026-03-09T00:00:00-04:00", previous: "2026-03-02T00:00:00-05:00",
            yearEarlier: "2025-03-10T00:00:00-04:00")
        check(
            .week, "2025-11-03T00:00:00-05:00", previous: "2025-10-27T00:00:00-04:00",
            yearEarlier: "2024-11-04T00:00:00-05:00")
        check(
            .month, "2026-03-01T00:00:00-05:00", previous: "2026-02-01T00:00:00-05:00",
            yearEarlier: "2025-03-01T00:00:00-05:00")
        check(
            .month, "2026-04-01T00:00:00-04:00", previous: "2026-03-01T00:00:00-05:00",
            yearEarlier: "2025-04-01T00:00:00-04:00")
        check(
            .month, "2026-01-01T00:00:00-05:00", previous: "2025-12-01T00:00:00-05:00",
            yearEarlier: "2025-01-01T00:00:00-05:00")
        check(
            .quarter, "2026-04-01T00:00:00-04:00", previous: "2026-01-01T00:00:00-05:00",
            yearEarlier: "2025-04-01T00:00:00-04:00")
        check(
            .quarter, "2026-01-01T00:00:00-05:00", previous: "2025-10-01T00:00:00-04:00",
            yearEarlier: "2025-01-01T00:00:00-05:00")
    }

    /// East trades in 2025 and 2026 (nothing in February or in the fourth quarter); west only in
    /// March 2026.
    static func feed(_ h: inout ShardHarness, _ make: inout EventBuilder, through year: Int) {
        if year == 2025 {
            h.apply(
                make.won("d1", 1000, at: "2025-01-10T10:00:00+08:00"), make.lost("d2", at: "2025-01-11T10:00:00+08:00"),
                make.acquired(at: "2025-01-12T10:00:00+08:00"), make.spend(300, at: "2025-01-13T10:00:00+08:00"),
                make.won("d3", 2000, at: "2025-03-12T10:00:00+08:00"),
                make.won("d4", 500, at: "2026-01-15T10:00:00+08:00"))
        } else {
            h.apply(
                make.won("d5", 4000, at: "2026-03-10T10:00:00+08:00"),
                make.won("d6", 1000, at: "2026-03-10T11:00:00+08:00"),
                make.lost("d7", at: "2026-03-10T12:00:00+08:00"), make.acquired(at: "2026-03-11T10:00:00+08:00"),
                make.acquired(at: "2026-03-11T11:00:00+08:00"), make.spend(800, at: "2026-03-12T10:00:00+08:00"),
                make.won("w1", 700, at: "2026-03-13T10:00:00+08:00", region: "west", rep: "w"))
        }
    }

    static let east = ScopeKey.region("east")
    static let west = ScopeKey.region("west")

    private func expect(
        _ c: Comparisons.Period?, start: String, revenue: Int64, won: Int32, lost: Int32, new: Int32, spendYuan: Int64,
        _ what: String
    ) {
        #expect(c?.start == t(start), "\(what) start")
        #expect(
            c?.figures
                == PeriodFigures(
                    revenue: Money(minorUnits: revenue * 100), won: won, lost: lost, newCustomers: new,
                    spend: Money(minorUnits: spendYuan * 100)), "\(what) figures")
    }

    @Test("region finals compare with the window before and the year before; unknown before the first window")
    func regionFinals() throws {
        var make = EventBuilder()
        var h = ShardHarness(testSettings(["week", "month", "quarter"]))
        Self.feed(&h, &make, through: 2025)
        Self.feed(&h, &make, through: 2026)
        h.closeAll()

        let jan25 = try #require(h.final(Self.east, "month", startingAt: "2025-01-01T00:00:00+08:00"))
        #expect(jan25.comparisons == Comparisons(previous: nil, yearAgo: nil))
        let mar25 = try #require(h.final(Self.east, "month", startingAt: "2025-03-01T00:00:00+08:00"))
        // February had no activity but comes after east's first month: zero, not unknown.
        expect(
            mar25.comparisons?.previous, start: "2025-02-01T00:00:00+08:00", revenue: 0, won: 0, lost: 0, new: 0,
            spendYuan: 0, "Mar 25 previous")
        #expect(mar25.comparisons?.yearAgo == nil)
        let jan26 = try #require(h.final(Self.east, "month", startingAt: "2026-01-01T00:00:00+08:00"))
        expect(
            jan26.comparisons?.yearAgo, start: "2025-01-01T00:00:00+08:00", revenue: 1000, won: 1, lost: 1, new: 1,
            spendYuan: 300, "Jan 26 year ago")
        expect(
            jan26.comparisons?.previous, start: "2025-12-01T00:00:00+08:00", revenue: 0, won: 0, lost: 0, new: 0,
            spendYuan: 0, "Jan 26 previous")
        let mar26 = try #require(h.final(Self.east, "month", startingAt: "2026-03-01T00:00:00+08:00"))
        expect(
            mar26.comparisons?.yearAgo, start: "2025-03-01T00:00:00+08:00", revenue: 2000, won: 1, lost: 0, new: 0,
            spendYuan: 0, "Mar 26 year ago")
        let q1 = try #require(h.final(Self.east, "quarter", startingAt: "2026-01-01T00:00:00+08:00"))
        expect(
            q1.comparisons?.yearAgo, start: "2025-01-01T00:00:00+08:00", revenue: 3000, won: 2, lost: 1, new: 1,
            spendYuan: 300, "Q1 26 year ago")
        expect(
            q1.comparisons?.previous, start: "2025-10-01T00:00:00+08:00", revenue: 0, won: 0, lost: 0, new: 0,
            spendYuan: 0, "Q1 26 previous")
        // 52 weeks before the week of 9 March 2026 is the week of 10 March 2025.
        let week = try #require(h.final(Self.east, "week", startingAt: "2026-03-09T00:00:00+08:00"))
        expect(
            week.comparisons?.yearAgo, start: "2025-03-10T00:00:00+08:00", revenue: 2000, won: 1, lost: 0, new: 0,
            spendYuan: 0, "week year ago")
        // West's first window: nothing to compare with.
        let westMarch = try #require(h.final(Self.west, "month", startingAt: "2026-03-01T00:00:00+08:00"))
        #expect(westMarch.comparisons == Comparisons(previous: nil, yearAgo: nil))
        // Reps compare nothing.
        #expect(h.finals.filter { $0.scope.kind == .rep }.allSatisfy { $0.comparisons == nil })

        // The published form: the past figures and the changes, exact to the fen.
        let json = try #require(
            try JSONSerialization.jsonObject(
                with: Data(mar26.json(currency: "CNY", calendar: h.shard.settings.calendar))) as? [String: Any])
        let comparisons = try #require(json["comparisons"] as? [String: Any])
        let yearAgo = try #require(comparisons["year_ago"] as? [String: Any])
        #expect(yearAgo["start"] as? String == "2025-03-01T00:00:00+08:00")
        #expect(yearAgo["revenue"] as? String == "2000.00" && yearAgo["avg_deal_size"] as? String == "2000.00")
        #expect(yearAgo["win_rate"] as? Double == 1 && yearAgo["cac"] is NSNull)
        let change = try #require(yearAgo["change"] as? [String: Any])
        #expect(change["revenue"] as? String == "3000.00" && change["revenue_growth"] as? Double == 1.5)
        #expect(change["won"] as? Int == 1 && change["avg_deal_size"] as? String == "500.00" && change["cac"] is NSNull)
        #expect(abs((change["win_rate"] as? Double ?? 0) - (2.0 / 3 - 1)) < 1e-12)
        let previous = try #require(comparisons["previous"] as? [String: Any])
        #expect(previous["revenue"] as? String == "0.00" && previous["win_rate"] is NSNull)
        let previousChange = try #require(previous["change"] as? [String: Any])
        #expect(previousChange["revenue"] as? String == "5000.00" && previousChange["revenue_growth"] is NSNull)
        let jan26JSON = try #require(
            try JSONSerialization.jsonObject(
                with: Data(jan26.json(currency: "CNY", calendar: h.shard.settings.calendar))) as? [String: Any])
        let jan26Change = try #require(
            ((jan26JSON["comparisons"] as? [String: Any])?["year_ago"] as? [String: Any])?["change"] as? [String: Any])
        #expect(jan26Change["revenue"] as? String == "-500.00" && jan26Change["revenue_growth"] as? Double == -0.5)
        let westJSON = try #require(
            try JSONSerialization.jsonObject(
                with: Data(westMarch.json(currency: "CNY", calendar: h.shard.settings.calendar))) as? [String: Any])
        let westComparisons = try #require(westJSON["comparisons"] as? [String: Any])
        #expect(westComparisons["previous"] is NSNull && westComparisons["year_ago"] is NSNull)
    }

    @Test("comparisons survive a restore from the changelog; what a year needs is all that is kept")
    func restored() throws {
        let settings = testSettings(["week", "month", "quarter"])
        var make = EventBuilder()
        var whole = ShardHarness(settings)
        Self.feed(&whole, &make, through: 2025)
        var make2 = make
        var split = whole
        let records = split.shard.takeChangelog()
        #expect(records.contains { $0.key.hasPrefix("h|") })
        split.shard = try ShardProcessor.restore(settings: settings, records: records)
        split.effects = []
        Self.feed(&whole, &make, through: 2026)
        Self.feed(&split, &make2, through: 2026)
        whole.closeAll()
        split.closeAll()
        let after = whole.finals.filter { $0.window.start >= t("2026-02-01T00:00:00+08:00") }
        #expect(!after.isEmpty)
        #expect(after == split.finals.filter { $0.window.start >= t("2026-02-01T00:00:00+08:00") })
        // At most a year and one window of each kind stays.
        let history = try #require(whole.shard.histories[Self.east])
        let months = history.entries.filter { $0.kind == 1 }.map(\.start)
        #expect(months.allSatisfy { $0 > t("2025-03-01T00:00:00+08:00") }, "\(months)")
    }

    @Test("history written under other windows is dropped on restore, not a failed restore")
    func otherWindows() throws {
        var make = EventBuilder()
        var h = ShardHarness(testSettings(["week", "month", "quarter"]))
        Self.feed(&h, &make, through: 2025)
        let records = h.shard.takeChangelog()
        #expect(records.contains { $0.key.hasPrefix("h|") })
        let restored = try ShardProcessor.restore(settings: testSettings(["day"]), records: records)
        #expect(restored.histories.values.allSatisfy { $0.isEmpty })
        let kept = try ShardProcessor.restore(settings: testSettings(["week", "month", "quarter"]), records: records)
        #expect(kept.histories[Self.east]?.entries.isEmpty == false)
    }

    @Test("company finals compare the same way in the rollup, and a restored rollup keeps its history")
    func company() throws {
        let settings = testSettings(["week", "month", "quarter"])
        var make = EventBuilder()
        var h = ShardHarness(settings)
        Self.feed(&h, &make, through: 2025)
        Self.feed(&h, &make, through: 2026)
        h.closeAll()
        var rollup = CompanyRollup(settings: settings, shards: 1)
        var out: [ShardEffect] = []
        h.report(to: &rollup)
        rollup.shardWatermark(0, t("2025-06-01T00:00:00+08:00"), effects: &out)
        var restored = try CompanyRollup.restore(settings: settings, shards: 1, records: rollup.takeChangelog())
        var again: [ShardEffect] = []
        rollup.shardWatermark(0, h.shard.watermark, effects: &out)
        restored.shardWatermark(0, h.shard.watermark, effects: &again)
        let finals = out.compactMap { if case .summary(let s) = $0, s.final { s } else { nil } }
        let march = try #require(
            finals.first { $0.windowName == "month" && $0.window.start == t("2026-03-01T00:00:00+08:00") })
        // East's March 2025; west had none then.
        expect(
            march.comparisons?.yearAgo, start: "2025-03-01T00:00:00+08:00", revenue: 2000, won: 1, lost: 0, new: 0,
            spendYuan: 0, "company year ago")
        expect(
            march.comparisons?.previous, start: "2026-02-01T00:00:00+08:00", revenue: 0, won: 0, lost: 0, new: 0,
            spendYuan: 0, "company previous")
        #expect(march.aggregate.revenue == Money(minorUnits: 570_000))
        let first = try #require(finals.first { $0.windowName == "month" })
        #expect(first.comparisons == Comparisons(previous: nil, yearAgo: nil))
        let restoredFinals = again.compactMap { if case .summary(let s) = $0, s.final { s } else { nil } }
        #expect(restoredFinals == finals.filter { $0.window.end > t("2025-06-01T00:00:00+08:00") })
    }
}
