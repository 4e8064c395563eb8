import TestSupport
import Testing

@testable import SalesKPI

@Suite("target.slipping and target.recovered")
struct TargetRuleTests {
    let rule = RuleSettings.TargetSlipping()
    let target = Money(minorUnits: 100_000)

    private func run(_ steps: [(revenue: Int64, pace: Double)]) -> [TargetTracker.Transition] {
        var tracker = TargetTracker()
        var out: [TargetTracker.Transition] = []
        for step in steps {
            tracker.revenueSoFar = Money(minorUnits: step.revenue)
            if let t = tracker.evaluate(target: target, pace: step.pace, rule: rule) { out.append(t) }
        }
        return out
    }

    @Test("nothing fires before min_elapsed of the period has passed")
    func minElapsed() {
        #expect(run([(0, 0.05), (0, 0.10), (0, 0.19)]).isEmpty)
        #expect(run([(0, 0.20)]).map(\.rule) == [.targetSlipping])
    }

    @Test("slipping fires once per transition, not once per evaluation")
    func oncePerTransition() {
        let t = run([(10_000, 0.3), (12_000, 0.35), (15_000, 0.4), (20_000, 0.5)])
        #expect(t.map(\.rule) == [.targetSlipping])
        #expect(t[0].sequence == 1)
    }

    @Test("recovery needs the hysteresis margin above the slipping threshold")
    func hysteresis() {
        // Threshold 0.85; recovery needs a ratio above 0.90.
        let t = run([(20_000, 0.3), (26_400, 0.3), (27_000, 0.3), (27_300, 0.3), (20_000, 0.3)])
        #expect(t.map(\.rule) == [.targetSlipping, .targetRecovered, .targetSlipping])
        #expect(t.map(\.sequence) == [1, 2, 3])
    }

    @Test(
        "severity is critical when the projection is under critical_projection",
        arguments: [
            (Int64(20_000), 0.3, Alert.Severity.critical), (24_000, 0.3, .warning),
        ])
    func severity(revenue: Int64, pace: Double, expected: Alert.Severity) {
        #expect(run([(revenue, pace)]).first?.severity == expected)
    }

    @Test("a switched-off rule never fires")
    func disabled() {
        var tracker = TargetTracker()
        var off = rule
        off.enabled = false
        #expect(tracker.evaluate(target: target, pace: 0.9, rule: off) == nil)
    }

    @Test("a shard evaluates targets at each business-day close with deterministic ids")
    func throughShard() {
        var settings = testSettings(["day", "month"])
        let east = ScopeKey.region("east")
        settings.targets.set(Money(minorUnits: 3_100_000), for: east, period: .month)
        var make = EventBuilder()
        var h = ShardHarness(settings)
        // The shard sees March from its first hour, so March is judged.
        h.apply(make.spend(1, at: "2026-03-01T00:30:00+08:00"))
        // 1,000 CNY per day against a 31,000 CNY March target: on pace.
        for day in 1...12 { h.apply(make.won("d\(day)", 1000, at: String(format2(day: day)))) }
        #expect(h.alerts.isEmpty)
        // Then nothing for a week: pace runs away from attainment.
        h.apply(make.spend(1, at: "2026-03-20T12:00:00+08:00"))
        #expect(h.alerts.map(\.rule) == [.targetSlipping])
        let alert = h.alerts[0]
        #expect(alert.id == "target.slipping:region:east:month:2026-02-28T16:00:00Z:1")
        #expect(alert.eventTime == EventBuilder.t("2026-03-16T00:00:00+08:00"))
        #expect(alert.message.contains("Region east is behind its month target"))
        for day in 20...24 { h.apply(make.won("big\(day)", 3000, at: "2026-03-\(day)T13:00:00+08:00")) }
        h.apply(make.spend(1, at: "2026-03-26T12:00:00+08:00"))
        #expect(h.alerts.map(\.rule) == [.targetSlipping, .targetRecovered])
    }

    @Test("a period the shard joined part-way through is not judged")
    func partialPeriodNotJudged() {
        var settings = testSettings(["day", "month"])
        settings.targets.set(Money(minorUnits: 3_100_000), for: .region("east"), period: .month)
        var make = EventBuilder()
        var h = ShardHarness(settings)
        h.apply(make.spend(1, at: "2026-03-10T12:00:00+08:00"), make.spend(1, at: "2026-04-01T12:00:00+08:00"))
        #expect(h.alerts.isEmpty)
        h.apply(make.spend(1, at: "2026-04-08T12:00:00+08:00"))
        #expect(h.alerts.map(\.periodStart) == [EventBuilder.t("2026-04-01T00:00:00+08:00")])
    }

    private func format2(day: Int) -> String { "2026-03-\(day < 10 ? "0" : "")\(day)T10:00:00+08:00" }
}

@Suite("cac.spike")
struct CACRuleTests {
    let rule = RuleSettings.CACSpike()

    @Test("fires when CAC exceeds factor × baseline with enough history and customers")
    func fires() {
        var d = CACSpikeDetector()
        for _ in 0..<4 { #expect(d.windowClosed(cac: Money(minorUnits: 10_000), newCustomers: 10, rule: rule) == nil) }
        let spike = d.windowClosed(cac: Money(minorUnits: 15_001), newCustomers: 10, rule: rule)
        #expect(spike?.baseline == 100)
        #expect(spike?.threshold == 150)
    }

    @Test("does not fire at exactly factor × baseline")
    func boundary() {
        var d = CACSpikeDetector()
        for _ in 0..<4 { _ = d.windowClosed(cac: Money(minorUnits: 10_000), newCustomers: 10, rule: rule) }
        #expect(d.windowClosed(cac: Money(minorUnits: 15_000), newCustomers: 10, rule: rule) == nil)
    }

    @Test("needs min_history closed windows and min_customers new customers")
    func minimums() {
        var d = CACSpikeDetector()
        for _ in 0..<3 { _ = d.windowClosed(cac: Money(minorUnits: 10_000), newCustomers: 10, rule: rule) }
        #expect(d.windowClosed(cac: Money(minorUnits: 90_000), newCustomers: 10, rule: rule) == nil)
        var e = CACSpikeDetector()
        for _ in 0..<8 { _ = e.windowClosed(cac: Money(minorUnits: 10_000), newCustomers: 10, rule: rule) }
        #expect(e.windowClosed(cac: Money(minorUnits: 90_000), newCustomers: 4, rule: rule) == nil)
    }

    @Test("the baseline is the mean of the last baseline_windows closed windows; null CAC is skipped")
    func baselineWindow() {
        var d = CACSpikeDetector()
        for _ in 0..<8 { _ = d.windowClosed(cac: Money(minorUnits: 1_000_000), newCustomers: 10, rule: rule) }
        for _ in 0..<8 { _ = d.windowClosed(cac: Money(minorUnits: 10_000), newCustomers: 10, rule: rule) }
        _ = d.windowClosed(cac: nil, newCustomers: 0, rule: rule)
        #expect(d.history.count == 8)
        #expect(d.windowClosed(cac: Money(minorUnits: 16_000), newCustomers: 10, rule: rule)?.baseline == 100)
    }

    @Test("a region's weekly CAC spike fires through the shard once the week closes")
    func throughShard() {
        var make = EventBuilder()
        var h = ShardHarness(testSettings(["week"]))
        // Weeks starting Monday 2026-01-05; five weeks at 1,000 per customer, then 3,000.
        for week in 0..<6 {
            for k in 0..<6 {
                let day = 5 + week * 7 + k
                let date = Timestamp.format(
                    EventBuilder.t("2026-01-01T10:00:00+08:00") + EpochMillis(day - 1) * Timestamp.millisPerDay,
                    offsetSeconds: 28_800)
                h.apply(make.acquired(at: date), make.spend(week == 5 ? 3000 : 1000, at: date))
            }
        }
        h.closeAll()
        let spikes = h.alerts.filter { $0.rule == .cacSpike }
        #expect(spikes.count == 1)
        #expect(spikes.first?.scope == .region("east"))
        #expect(spikes.first?.periodStart == EventBuilder.t("2026-02-09T00:00:00+08:00"))
        #expect(spikes.first?.baseline == 1000)
    }
}
