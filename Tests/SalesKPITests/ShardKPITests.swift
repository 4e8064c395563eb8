import TestSupport
import Testing
import Worker

@testable import SalesKPI

@Suite("KPIs of one shard")
struct ShardKPITests {
    var make = EventBuilder()
    let east = ScopeKey.region("east")
    let rep = ScopeKey.rep("r1", in: "east")

    @Test("revenue, won and average deal size count won deals in rep and region scope")
    mutating func revenue() {
        var h = ShardHarness(testSettings(["month"]))
        h.apply(
            make.won("d1", 1000, at: "2026-03-02T10:00:00+08:00"),
            make.won("d2", 2001, at: "2026-03-03T10:00:00+08:00"),
            make.won("d3", 500, at: "2026-03-03T11:00:00+08:00", rep: "r2"))
        h.closeAll()
        let region = h.final(east, "month", startingAt: "2026-03-01T00:00:00+08:00")!
        #expect(region.aggregate.revenue == Money(minorUnits: 350_100))
        #expect(region.aggregate.won == 3)
        #expect(KPIFigures(region.aggregate).avgDealSize == Money(minorUnits: 116_700))
        let r1 = h.final(rep, "month", startingAt: "2026-03-01T00:00:00+08:00")!
        #expect(r1.aggregate.revenue == Money(minorUnits: 300_100))
        #expect(KPIFigures(r1.aggregate).avgDealSize == Money(minorUnits: 150_050))
    }

    @Test("a deal won twice counts once, with the later win's amount and window")
    mutating func wonOnce() {
        var h = ShardHarness(testSettings(["month"]))
        let d = h.apply(
            make.won("d1", 1000, at: "2026-01-31T23:50:00+08:00"), make.won("d1", 1200, at: "2026-02-01T00:20:00+08:00")
        )
        #expect(d == [.counted, .counted])
        h.closeAll()
        let jan = h.final(east, "month", startingAt: "2026-01-01T00:00:00+08:00")!
        let feb = h.final(east, "month", startingAt: "2026-02-01T00:00:00+08:00")!
        #expect(jan.aggregate.won == 0 && jan.aggregate.revenue == .zero && jan.aggregate.cycleSketch.count == 0)
        #expect(feb.aggregate.won == 1 && feb.aggregate.revenue == Money(minorUnits: 120_000))
    }

    @Test("an earlier win arriving after a later one is superseded")
    mutating func earlierWinSuperseded() {
        var h = ShardHarness(testSettings(["month"]))
        let d = h.apply(
            make.won("d1", 1200, at: "2026-02-01T00:20:00+08:00"), make.won("d1", 1000, at: "2026-02-01T00:00:00+08:00")
        )
        #expect(d == [.counted, .superseded])
        h.closeAll()
        #expect(
            h.final(east, "month", startingAt: "2026-02-01T00:00:00+08:00")!.aggregate.revenue
                == Money(minorUnits: 120_000))
    }

    @Test("win rate is won over decided deals and null when nothing was decided")
    mutating func winRate() {
        var h = ShardHarness(testSettings(["month"]))
        h.apply(
            make.won("d1", 10, at: "2026-03-02T10:00:00Z"), make.lost("d2", at: "2026-03-02T11:00:00Z"),
            make.lost("d3", at: "2026-03-02T12:00:00Z"), make.lost("d3", at: "2026-03-02T13:00:00Z"),
            make.spend(5, at: "2026-04-02T12:00:00Z"))
        h.closeAll()
        let march = KPIFigures(h.final(east, "month", startingAt: "2026-03-01T00:00:00+08:00")!.aggregate)
        #expect(march.winRate == 1.0 / 3.0)
        #expect(KPIFigures(h.final(east, "month", startingAt: "2026-04-01T00:00:00+08:00")!.aggregate).winRate == nil)
    }

    @Test("sales cycle mean is exact and p50/p90 are within 1 % of the exact quantiles")
    mutating func cycle() {
        var h = ShardHarness(testSettings(["quarter"]))
        var days: [Double] = []
        for k in 0..<200 {
            let cycleHours = 1 + (k * 37) % 900
            days.append(Double(cycleHours) / 24)
            let at = EventBuilder.t("2026-03-10T00:00:00Z") + EpochMillis(k) * 60_000
            let created = at - EpochMillis(cycleHours) * 3_600_000
            h.apply(make.won("d\(k)", 100, at: Timestamp.format(at), created: Timestamp.format(created)))
        }
        h.closeAll()
        let f = KPIFigures(h.final(east, "quarter", startingAt: "2026-01-01T00:00:00+08:00")!.aggregate)
        let sorted = days.sorted()
        #expect(abs(f.cycleMeanDays! - days.reduce(0, +) / 200) < 1e-9)
        let p50 = sorted[Int(0.5 * 199)]
        let p90 = sorted[Int(0.9 * 199)]
        #expect(abs(f.cycleP50Days! - p50) <= 0.01 * p50)
        #expect(abs(f.cycleP90Days! - p90) <= 0.01 * p90)
    }

    @Test("retention uses customers active at the window start, including late-arriving earlier ones")
    mutating func retention() {
        var h = ShardHarness(testSettings(["month"], lateness: 40 * Timestamp.millisPerDay))
        for day in 10...14 { h.apply(make.acquired(at: "2026-01-\(day)T10:00:00+08:00")) }
        h.apply(make.churned(at: "2026-02-03T10:00:00+08:00"), make.acquired(at: "2026-02-04T10:00:00+08:00"))
        // Out of order: one more January customer after February's window already exists.
        h.apply(make.acquired(at: "2026-01-20T10:00:00+08:00"))
        h.closeAll()
        let feb = h.final(east, "month", startingAt: "2026-02-01T00:00:00+08:00")!
        #expect(feb.aggregate.activeCustomersStart == 6)
        #expect(feb.aggregate.newCustomers == 1 && feb.aggregate.churnedCustomers == 1)
        #expect(KPIFigures(feb.aggregate).retentionRate == 5.0 / 6.0)
        let jan = h.final(east, "month", startingAt: "2026-01-01T00:00:00+08:00")!
        #expect(jan.aggregate.activeCustomersStart == 0 && KPIFigures(jan.aggregate).retentionRate == nil)
        #expect(h.final(rep, "month", startingAt: "2026-02-01T00:00:00+08:00")!.aggregate.activeCustomersStart == 6)
    }

    @Test("spend reaches rep scope only when it names a rep; CAC is spend over new customers")
    mutating func spendAndCAC() {
        var h = ShardHarness(testSettings(["month"]))
        h.apply(
            make.spend(900, at: "2026-03-02T10:00:00Z"), make.spend(300, at: "2026-03-03T10:00:00Z", rep: "r1"),
            make.acquired(at: "2026-03-04T10:00:00Z"), make.acquired(at: "2026-03-05T10:00:00Z"),
            make.acquired(at: "2026-03-05T11:00:00Z", rep: "r2"))
        h.closeAll()
        let region = h.final(east, "month", startingAt: "2026-03-01T00:00:00+08:00")!
        #expect(region.aggregate.spend == Money(minorUnits: 120_000))
        #expect(KPIFigures(region.aggregate).cac == Money(minorUnits: 40_000))
        let r1 = h.final(rep, "month", startingAt: "2026-03-01T00:00:00+08:00")!
        #expect(r1.aggregate.spend == Money(minorUnits: 30_000))
        #expect(KPIFigures(r1.aggregate).cac == Money(minorUnits: 15_000))
        let r2 = h.final(.rep("r2", in: "east"), "month", startingAt: "2026-03-01T00:00:00+08:00")!
        #expect(KPIFigures(r2.aggregate).cac == .zero)
    }

    @Test("targets give attainment and market sizes give market share in summaries")
    mutating func targetAndShare() {
        var settings = testSettings(["day", "month"])
        settings.targets.set(Money(minorUnits: 1_000_000), for: east, period: .month)
        settings.markets.set(Money(minorUnits: 4_000_000), region: "east", windowKind: "month")
        var h = ShardHarness(settings)
        h.apply(make.won("d1", 2500, at: "2026-03-02T10:00:00Z"))
        h.closeAll()
        let s = h.final(east, "month", startingAt: "2026-03-01T00:00:00+08:00")!
        #expect(s.target == Money(minorUnits: 1_000_000))
        #expect(s.marketSize == Money(minorUnits: 4_000_000))
        #expect(s.pace == 1)
        #expect(h.final(east, "day", startingAt: "2026-03-02T00:00:00+08:00")!.target == nil)
    }

    @Test("late events and duplicates are recognised")
    mutating func lateAndDuplicate() {
        var h = ShardHarness(testSettings(["day"]))
        let first = make.won("d1", 10, at: "2026-03-02T10:00:00Z")
        let d = h.apply(
            first, first, make.spend(1, at: "2026-03-02T12:00:00Z"), make.spend(1, at: "2026-03-02T10:59:59Z"),
            make.spend(1, at: "2026-03-02T11:00:00Z"))
        #expect(d == [.counted, .duplicate, .counted, .late, .counted])
        #expect(h.shard.watermark == EventBuilder.t("2026-03-02T11:00:00Z"))
    }

    @Test("a counted event re-sent after the watermark passed it is a duplicate, not a late event")
    mutating func resentBehindWatermark() {
        var h = ShardHarness(testSettings(["day"]))
        let early = make.spend(1, at: "2026-03-02T10:00:00Z")
        let d = h.apply(early, make.spend(1, at: "2026-03-02T12:00:00Z"), early)
        #expect(h.shard.watermark > early.occurredAt)
        #expect(d == [.counted, .counted, .duplicate])
    }

    @Test("a window's final summary comes out once, when the watermark passes its end")
    mutating func finalOnce() {
        var h = ShardHarness(testSettings(["day"]))
        h.apply(make.spend(1, at: "2026-03-02T10:00:00+08:00"), make.spend(1, at: "2026-03-03T00:30:00+08:00"))
        #expect(h.finals.isEmpty)
        h.apply(make.spend(1, at: "2026-03-03T01:00:00+08:00"))
        #expect(h.finals.count == 1)
        h.apply(make.spend(1, at: "2026-03-03T02:00:00+08:00"))
        #expect(h.finals.count == 1)
        #expect(h.finals[0].window.start == EventBuilder.t("2026-03-02T00:00:00+08:00"))
    }

    @Test("provisional summaries respect the emit interval and only cover changed windows")
    mutating func provisional() {
        var settings = testSettings(["day"])
        settings.emitIntervalMillis = 5_000
        var h = ShardHarness(settings)
        h.apply(make.spend(1, at: "2026-03-02T10:00:00Z"))
        h.shard.tick(now: 10_000, effects: &h.effects)
        #expect(h.effects.count == 1)
        h.shard.tick(now: 20_000, effects: &h.effects)
        #expect(h.effects.count == 1)
        h.apply(make.spend(1, at: "2026-03-02T10:05:00Z"))
        h.shard.tick(now: 22_000, effects: &h.effects)
        #expect(h.effects.count == 1)
        h.shard.tick(now: 25_000, effects: &h.effects)
        #expect(h.effects.count == 2)
        if case .summary(let s) = h.effects[1] { #expect(s.revision == 2 && !s.final) }
    }

    @Test("while every source is idle, event time follows the wall clock from the furthest progress, never past it")
    mutating func idleAdvance() {
        var h = ShardHarness(testSettings(["day"]))
        h.apply(make.spend(1, at: "2026-03-02T15:59:00Z"))
        let progress = h.shard.progress
        // Sources idle since wall time 1_000_000 (in the distant past of the event times).
        let wall = EventBuilder.t("2026-03-02T16:00:00Z")
        h.shard.tick(now: wall, effects: &h.effects)
        #expect(h.shard.progress == progress, "no idle sources: nothing moves")
        h.shard.tick(now: wall + 10_000, idleSince: wall + 5_000, effects: &h.effects)
        #expect(h.shard.progress == progress + 5_000)
        h.shard.tick(now: wall + 70_000, idleSince: wall + 5_000, effects: &h.effects)
        #expect(h.shard.progress == progress + 65_000)
        // Never beyond the wall clock: a clock behind event time moves nothing.
        var ahead = ShardHarness(testSettings(["day"]))
        ahead.apply(make.spend(1, at: "2026-03-02T15:59:00Z"))
        let before = ahead.shard.progress
        ahead.shard.tick(now: 1_000, effects: &ahead.effects)
        ahead.shard.tick(now: 90_000, idleSince: 1_000, effects: &ahead.effects)
        #expect(ahead.shard.progress == before)
    }

    @Test("events of several sources in any order within the lateness: nothing late, the same finals")
    func arrivalOrderDoesNotMatter() {
        var make = EventBuilder()
        var events: [SalesEvent] = []
        var rng = seededGenerator(42)
        let start = EventBuilder.t("2026-03-02T00:00:00+08:00")
        for k in 0..<600 {
            let t = Timestamp.format(start + EpochMillis(k) * 600_000 + EpochMillis(rng.next() % 1_800_000))
            switch rng.next() % 4 {
            // Wins of one deal lie under an hour apart: a correction within the lateness.
            case 0: events.append(make.won("d\(k / 3)", Int64(100 + k), at: t))
            case 1: events.append(make.acquired(at: t))
            case 2: events.append(make.churned(at: t))
            default: events.append(make.spend(Int64(k), at: t))
            }
        }
        // Reference: one source in time order.
        var sorted = ShardHarness(testSettings(["day", "week"]))
        for e in events.sorted(by: { ($0.occurredAt, $0.eventId) < ($1.occurredAt, $1.eventId) }) { sorted.apply(e) }
        sorted.closeAll()
        // Four sources interleaved at random; progress is the minimum of what each delivered.
        var shuffled = ShardHarness(testSettings(["day", "week"]))
        var lanes: [[SalesEvent]] = Array(repeating: [], count: 4)
        for e in events { lanes[Int(rng.next() % 4)].append(e) }
        for k in lanes.indices { lanes[k].sort { $0.occurredAt < $1.occurredAt } }
        var next = [0, 0, 0, 0]
        var reached = [EpochMillis](repeating: .min, count: 4)
        while next.indices.contains(where: { next[$0] < lanes[$0].count }) {
            let k = Int(rng.next() % 4)
            guard next[k] < lanes[k].count else { continue }
            let e = lanes[k][next[k]]
            next[k] += 1
            reached[k] = max(reached[k], e.occurredAt)
            let d = shuffled.shard.apply(e, effects: &shuffled.effects)
            #expect(d != .late)
            let done = (0..<4).filter { next[$0] == lanes[$0].count }
            let progress = (0..<4).filter { !done.contains($0) }.map { reached[$0] }.min() ?? reached.max()!
            shuffled.shard.advanceProgress(to: progress, effects: &shuffled.effects)
        }
        shuffled.closeAll()
        let key = { (s: Summary) in "\(s.scope.id) \(s.windowName) \(s.window.start)" }
        let expected = Dictionary(uniqueKeysWithValues: sorted.finals.map { (key($0), $0.aggregate) })
        let actual = Dictionary(uniqueKeysWithValues: shuffled.finals.map { (key($0), $0.aggregate) })
        #expect(actual.count == expected.count)
        for (k, a) in expected { #expect(actual[k] == a, "\(k)") }
    }
}

@Suite("Customer ledger")
struct CustomerLedgerTests {
    /// Thousands of customer changes a day in one region, a little out of order, against a count
    /// of the events themselves.
    @Test("a busy scope's ledger holds a few entries per day and start counts stay exact")
    func busyScope() {
        var make = EventBuilder()
        var h = ShardHarness(testSettings(["day", "7d/1d"]))
        var rng = seededGenerator(9)
        let start = EventBuilder.t("2026-03-02T00:00:00+08:00")
        var times: [(EpochMillis, Int32)] = []
        for k in 0..<12_000 {
            // 10 days, up to 20 minutes of disorder (well inside the hour of lateness).
            let t = start + EpochMillis(k) * 72_000 - EpochMillis(rng.next() % 1_200_000)
            let acquired = rng.next() % 3 != 0
            h.apply(acquired ? make.acquired(at: Timestamp.format(t)) : make.churned(at: Timestamp.format(t)))
            times.append((t, acquired ? 1 : -1))
        }
        #expect(h.shard.longestLedger < 120)
        h.closeAll(through: "2026-04-01T00:00:00Z")
        var checked = 0
        for s in h.finals where s.scope == .region("east") {
            let expected = times.filter { $0.0 < s.window.start }.reduce(Int32(0)) { $0 + $1.1 }
            #expect(s.aggregate.activeCustomersStart == expected, "\(s.windowName) \(s.window.start)")
            checked += 1
        }
        #expect(checked > 15)
    }
}
