import TestSupport
import Testing
import Worker

@testable import SalesKPI

@Suite("Quantile sketch")
struct SketchTests {
    @Test("quantiles stay within 1 % of exact ones, and merging equals adding everything")
    func accuracy() {
        var rng = seededGenerator(105)
        var values: [Double] = []
        var a = QuantileSketch()
        var b = QuantileSketch()
        for k in 0..<5000 {
            let v = Double.random(in: 0.01...400, using: &rng)
            values.append(v)
            if k % 2 == 0 { a.add(v) } else { b.add(v) }
        }
        var merged = a
        merged.merge(b)
        let sorted = values.sorted()
        for q in [0.1, 0.5, 0.9, 0.99] {
            let exact = sorted[Int(q * Double(sorted.count - 1))]
            #expect(abs(merged.quantile(q)! - exact) <= 0.01 * exact)
        }
        #expect(merged.count == 5000)
    }

    @Test("removing a value undoes adding it")
    func retraction() {
        var s = QuantileSketch()
        s.add(3)
        s.add(0)
        s.remove(3)
        s.remove(0)
        #expect(s == QuantileSketch())
        #expect(s.quantile(0.5) == nil)
    }

    @Test("random adds and removals keep exactly the bins a plain count per bin has")
    func binsMatchAPlainCount() {
        var rng = seededGenerator(42)
        for _ in 0..<200 {
            var s = QuantileSketch()
            var added: [Double] = []
            var counts: [Int16: UInt32] = [:]
            for _ in 0..<Int.random(in: 1...40, using: &rng) {
                if !added.isEmpty, Bool.random(using: &rng) {
                    let v = added.remove(at: Int.random(in: 0..<added.count, using: &rng))
                    s.remove(v)
                    if v > QuantileSketch.zeroThreshold { counts[QuantileSketch.binIndex(v), default: 0] -= 1 }
                } else {
                    // A few distinct values, so bins are hit again, emptied and refilled.
                    let v = [0, 0.4, 1.5, 3, 7.2, 30, 90][Int.random(in: 0..<7, using: &rng)]
                    added.append(v)
                    s.add(v)
                    if v > QuantileSketch.zeroThreshold { counts[QuantileSketch.binIndex(v), default: 0] += 1 }
                }
            }
            let expected = counts.filter { $0.value > 0 }.sorted { $0.key < $1.key }
                .map { QuantileSketch.Bin(index: $0.key, count: $0.value) }
            #expect(s.bins == expected)
            #expect(s.binCount == expected.count)
            #expect(s == QuantileSketch(zeroCount: s.zeroCount, bins: expected))
            #expect(s.count == added.count)
        }
    }
}

@Suite("Company rollup")
struct RollupTests {
    @Test("company summaries merge region parts and turn final once every shard passed the window")
    func mergesAndFinalizes() {
        var make = EventBuilder()
        let settings = testSettings(["month"])
        var east = ShardHarness(settings)
        var west = ShardHarness(settings)
        east.apply(make.won("d1", 100, at: "2026-03-02T10:00:00Z"), make.spend(30, at: "2026-03-03T10:00:00Z"))
        west.apply(
            make.won("d2", 250, at: "2026-03-05T10:00:00Z", region: "west"),
            make.acquired(at: "2026-03-05T11:00:00Z", region: "west"))
        east.closeAll(through: "2026-04-02T00:00:00Z")
        var rollup = CompanyRollup(settings: settings, shards: 2)
        var out: [ShardEffect] = []
        rollup.shardWatermark(1, west.shard.watermark, effects: &out)
        for s in east.finals where s.scope.kind == .region { rollup.ingest(s, effects: &out) }
        rollup.shardWatermark(0, east.shard.watermark, effects: &out)
        #expect(out.isEmpty)
        west.closeAll(through: "2026-04-02T00:00:00Z")
        for s in west.finals where s.scope.kind == .region { rollup.ingest(s, effects: &out) }
        rollup.shardWatermark(1, west.shard.watermark, effects: &out)
        let finals = out.compactMap { if case .summary(let s) = $0, s.final { s } else { nil } }
        let march = finals.first { $0.window.start == EventBuilder.t("2026-03-01T00:00:00+08:00") }!
        #expect(march.scope == .company)
        #expect(march.aggregate.revenue == Money(minorUnits: 35_000))
        #expect(march.aggregate.won == 2 && march.aggregate.newCustomers == 1)
        #expect(march.aggregate.spend == Money(minorUnits: 3_000))
        #expect(finals.filter { $0.window == march.window }.count == 1)
    }

    @Test("a company window counts the customers of a region without activity in it, which sends no summary for it")
    func quietRegionCustomers() {
        var make = EventBuilder()
        let settings = testSettings(["day"])
        var east = ShardHarness(settings)
        var west = ShardHarness(settings)
        east.apply(
            make.acquired(at: "2026-03-02T10:00:00+08:00"), make.acquired(at: "2026-03-02T11:00:00+08:00"),
            make.acquired(at: "2026-03-02T12:00:00+08:00"), make.churned(at: "2026-03-02T13:00:00+08:00"))
        west.apply(
            make.acquired(at: "2026-03-02T09:00:00+08:00", region: "west"),
            make.won("d1", 100, at: "2026-03-05T10:00:00+08:00", region: "west"))
        east.closeAll(through: "2026-03-07T00:00:00Z")
        west.closeAll(through: "2026-03-07T00:00:00Z")
        #expect(Set(east.finals.map(\.window.start)) == [EventBuilder.t("2026-03-02T00:00:00+08:00")])
        var rollup = CompanyRollup(settings: settings, shards: 2)
        var out: [ShardEffect] = []
        east.report(to: &rollup)
        west.report(to: &rollup)
        rollup.shardWatermark(0, east.shard.watermark, effects: &out)
        rollup.shardWatermark(1, west.shard.watermark, effects: &out)
        let finals = out.compactMap { if case .summary(let s) = $0, s.final { s } else { nil } }
        // Two windows had activity; the days between them have no company final either.
        #expect(
            finals.map(\.window.start) == ["2026-03-02", "2026-03-05"].map { EventBuilder.t($0 + "T00:00:00+08:00") })
        let fifth = finals.last
        #expect(fifth?.aggregate.won == 1)
        // East's 3 − 1 and west's 1, though only west has a day-5 summary.
        #expect(fifth?.aggregate.activeCustomersStart == 3)
        #expect(finals.first?.aggregate.activeCustomersStart == 0)
        // Restored, the rollup still knows them.
        var reported = CompanyRollup(settings: settings, shards: 2)
        east.report(to: &reported)
        west.report(to: &reported)
        let restored = try? CompanyRollup.restore(settings: settings, shards: 2, records: reported.takeChangelog())
        var again: [ShardEffect] = []
        var r = restored
        r?.shardWatermark(0, east.shard.watermark, effects: &again)
        r?.shardWatermark(1, west.shard.watermark, effects: &again)
        let finalsAgain = again.compactMap { if case .summary(let s) = $0, s.final { s } else { nil } }
        #expect(finalsAgain.last?.aggregate.activeCustomersStart == 3)
    }

    @Test("a customer change of a shard behind the others publishes every open company window after it again, once")
    func lateCustomerChangeRepublishes() {
        var make = EventBuilder()
        let settings = testSettings(["day"])
        let day = { (d: Int) in EventBuilder.t("2026-03-0\(d)T00:00:00+08:00") }
        var ahead = ShardHarness(settings)
        ahead.apply(
            make.won("d1", 100, at: "2026-03-05T10:00:00+08:00", region: "west"),
            make.won("d2", 100, at: "2026-03-06T10:00:00+08:00", region: "west"))
        ahead.shard.emitProvisional(effects: &ahead.effects)
        var rollup = CompanyRollup(settings: settings, shards: 2)
        _ = ahead.report(to: &rollup)
        func published(at now: EpochMillis) -> [Summary] {
            var out: [ShardEffect] = []
            rollup.tick(now: now, effects: &out)
            return out.compactMap { if case .summary(let s) = $0 { s } else { nil } }
        }
        let interval = settings.emitIntervalMillis
        let first = published(at: interval)
        #expect(first.map(\.window.start) == [day(5), day(6)])
        #expect(first.map(\.aggregate.activeCustomersStart) == [0, 0])
        // The other shard, behind: a customer filed at the 4th, another at the 5th.
        rollup.customersChanged(at: day(4), delta: 1)
        rollup.customersChanged(at: day(5), delta: 1)
        let again = published(at: 2 * interval)
        #expect(again.map(\.window.start) == [day(5), day(6)])
        #expect(again.map(\.aggregate.activeCustomersStart) == [1, 2])
        #expect(again.map(\.revision) == first.map { $0.revision + 1 })
        #expect(again.allSatisfy { !$0.final })
        // Nothing changed since.
        #expect(published(at: 3 * interval).isEmpty)
        // A change at the 5th reaches only the 6th.
        rollup.customersChanged(at: day(5), delta: -1)
        #expect(published(at: 4 * interval).map(\.window.start) == [day(6)])
    }

    @Test("a shard that never reported holds every company window open, however far the others are")
    func silentShardHolds() {
        var make = EventBuilder()
        let settings = testSettings(["day"])
        var east = ShardHarness(settings)
        east.apply(make.won("d1", 100, at: "2026-03-02T10:00:00Z"))
        east.closeAll(through: "2026-03-10T00:00:00Z")
        var rollup = CompanyRollup(settings: settings, shards: 3)
        var out: [ShardEffect] = []
        for s in east.finals where s.scope.kind == .region { rollup.ingest(s, effects: &out) }
        rollup.shardWatermark(0, east.shard.watermark, effects: &out)
        rollup.shardWatermark(1, east.shard.watermark, effects: &out)
        #expect(rollup.watermark == .min)
        #expect(out.isEmpty)
        rollup.shardWatermark(2, EventBuilder.t("2026-03-03T00:00:00+08:00"), effects: &out)
        let finals = out.compactMap { if case .summary(let s) = $0, s.final { s } else { nil } }
        #expect(finals.map(\.window.start) == [EventBuilder.t("2026-03-02T00:00:00+08:00")])
        #expect(finals.first?.aggregate.revenue == Money(minorUnits: 10_000))
    }

    @Test("a shard with nothing at all stops holding the company back until it reports a watermark")
    func emptyShardLeftOut() {
        var make = EventBuilder()
        let settings = testSettings(["day"])
        var east = ShardHarness(settings)
        east.apply(make.won("d1", 100, at: "2026-03-02T10:00:00Z"))
        east.closeAll(through: "2026-03-04T00:00:00Z")
        var rollup = CompanyRollup(settings: settings, shards: 2)
        var out: [ShardEffect] = []
        for s in east.finals where s.scope.kind == .region { rollup.ingest(s, effects: &out) }
        rollup.shardWatermark(0, east.shard.watermark, effects: &out)
        #expect(out.isEmpty)
        rollup.shardEmpty(1, effects: &out)
        #expect(rollup.watermark == east.shard.watermark)
        #expect(out.contains { if case .summary(let s) = $0 { s.final } else { false } })
        // Once it has data, it counts again.
        rollup.shardWatermark(1, EventBuilder.t("2026-03-03T00:00:00Z"), effects: &out)
        #expect(rollup.watermark == EventBuilder.t("2026-03-03T00:00:00Z"))
        // Restored from its changelog, it remembers who was empty.
        var again = CompanyRollup(settings: settings, shards: 3)
        again.shardEmpty(2, effects: &out)
        let restored = try? CompanyRollup.restore(settings: settings, shards: 3, records: again.takeChangelog())
        #expect(restored?.emptyShards == [2])
    }
}
