import Foundation
import TestSupport
import Testing

@testable import SalesKPI

/// Alert messages word for word in both locales, against the sentences the reference writes
/// out independently (`ReferenceAlerts.Text`), with every other field of the alert.
@Suite("Alert messages")
struct AlertTextTests {
    @Test("target.slipping: every field, and the message in zh-CN and en", arguments: [AlertLocale.zhCN, .en])
    func targetSlipping(locale: AlertLocale) throws {
        var settings = testSettings(["day", "month"])
        settings.locale = locale
        let east = ScopeKey.region("east")
        settings.targets.set(Money(minorUnits: 3_100_000), for: east, period: .month)
        var make = EventBuilder()
        var h = ShardHarness(settings)
        h.apply(make.spend(1, at: "2026-03-01T00:30:00+08:00"))
        for day in 1...12 {
            h.apply(make.won("d\(day)", 1000, at: "2026-03-\(day < 10 ? "0" : "")\(day)T10:00:00+08:00"))
        }
        h.apply(make.spend(1, at: "2026-03-20T12:00:00+08:00"))
        let alert = try #require(h.alerts.first)
        // Judged at the close of 15 March: 12,000 of 31,000 with 15 of 31 days gone.
        let attainment = 12_000.0 / 31_000
        let pace = 15.0 / 31
        #expect(alert.rule == .targetSlipping && alert.severity == .warning)
        #expect(alert.scope == east && alert.periodKind == "month")
        #expect(alert.periodStart == ReferenceCalendar.parse("2026-03-01T00:00:00+08:00"))
        #expect(alert.periodEnd == ReferenceCalendar.parse("2026-04-01T00:00:00+08:00"))
        #expect(abs(alert.observed - attainment / pace) < 1e-12 && alert.threshold == 0.85 && alert.baseline == nil)
        #expect(alert.eventTime == ReferenceCalendar.parse("2026-03-16T00:00:00+08:00"))
        let expected = ReferenceAlerts.Text.target(
            recovered: false, ReferenceModel.Scope(kind: "region", region: "east"), "month", 3_100_000, "CNY",
            attainment: attainment, pace: pace, projected: attainment / pace, zh: locale == .zhCN)
        #expect(alert.message == expected)
        #expect(
            alert.message
                == (locale == .zhCN
                    ? "区域 east 本月目标进度落后：已完成目标 31000.00 CNY 的 38.7%，时间已过 48.4%，预计仅完成 80.0%。"
                    : "Region east is behind its month target: 38.7% of 31000.00 CNY achieved with 48.4% of the period elapsed; projected 80.0% of target.")
        )
    }

    @Test("target.recovered and cac.spike messages in zh-CN and en", arguments: [AlertLocale.zhCN, .en])
    func recoveredAndCAC(locale: AlertLocale) throws {
        var settings = testSettings(["day", "week", "month"])
        settings.locale = locale
        settings.targets.set(Money(minorUnits: 3_100_000), for: .region("east"), period: .month)
        var make = EventBuilder()
        var h = ShardHarness(settings)
        h.apply(make.spend(1, at: "2026-03-01T00:30:00+08:00"))
        for day in 1...12 {
            h.apply(make.won("d\(day)", 1000, at: "2026-03-\(day < 10 ? "0" : "")\(day)T10:00:00+08:00"))
        }
        h.apply(make.spend(1, at: "2026-03-20T12:00:00+08:00"))
        for day in 20...24 { h.apply(make.won("big\(day)", 3000, at: "2026-03-\(day)T13:00:00+08:00")) }
        h.apply(make.spend(1, at: "2026-03-26T12:00:00+08:00"))
        let recovered = try #require(h.alerts.first { $0.rule == .targetRecovered })
        // Back above 0.90 at the close of 22 March: 12,000 + 9,000 of 31,000 with 22 of 31 days
        // gone (at the close of the 21st, 18,000 with 21 days: 0.857).
        let attainment = 21_000.0 / 31_000
        let pace = 22.0 / 31
        #expect(recovered.eventTime == ReferenceCalendar.parse("2026-03-23T00:00:00+08:00"))
        #expect(abs(recovered.observed - attainment / pace) < 1e-12 && abs(recovered.threshold - 0.9) < 1e-12)
        #expect(
            recovered.message
                == ReferenceAlerts.Text.target(
                    recovered: true, ReferenceModel.Scope(kind: "region", region: "east"), "month", 3_100_000, "CNY",
                    attainment: attainment, pace: pace, projected: attainment / pace, zh: locale == .zhCN))

        // Five weeks at 1,000 per new customer, then one at 3,000 (six customers a week).
        var w = ShardHarness(settings)
        for week in 0..<6 {
            for k in 0..<6 {
                let day = 5 + week * 7 + k
                let date = Timestamp.format(
                    EventBuilder.t("2026-01-01T10:00:00+08:00") + EpochMillis(day - 1) * Timestamp.millisPerDay,
                    offsetSeconds: 28_800)
                w.apply(
                    make.acquired(at: date, region: "south"),
                    make.spend(week == 5 ? 3000 : 1000, at: date, region: "south"))
            }
        }
        w.closeAll()
        let spike = try #require(w.alerts.first { $0.rule == .cacSpike })
        #expect(spike.severity == .warning && spike.scope == .region("south") && spike.periodKind == "week")
        #expect(spike.periodStart == ReferenceCalendar.parse("2026-02-09T00:00:00+08:00"))
        #expect(spike.periodEnd == ReferenceCalendar.parse("2026-02-16T00:00:00+08:00"))
        #expect(spike.observed == 3000 && spike.baseline == 1000 && spike.threshold == 1500)
        #expect(
            spike.message
                == ReferenceAlerts.Text.cac(
                    ReferenceModel.Scope(kind: "region", region: "south"), cacMinor: 300_000, baseline: 1000,
                    factor: 1.5,
                    day: "2026-02-09", newCustomers: 6, currency: "CNY", zh: locale == .zhCN))
    }
}

/// Found by the state fuzzer: numbers too large for an Int64 of minor units trapped where they
/// were turned into text or amounts.
@Suite("Numbers beyond an Int64")
struct HugeNumberTests {
    @Test("fixed-point text of a number beyond an Int64 falls back to Swift's shortest form")
    func fixedText() {
        #expect(AlertText.fixed(2.5, 2) == "2.50")
        #expect(AlertText.fixed(-0.004, 2) == "0.00")
        #expect(AlertText.fixed(1.5e20, 2) == "1.5e+20")
        #expect(AlertText.fixed(-1.5e20, 1) == "-1.5e+20")
        #expect(AlertText.fixed(.infinity, 2) == "∞")
        #expect(Money(rounding: 1e19) == nil && Money(rounding: .nan) == nil)
        #expect(Money(rounding: 123.5) == Money(minorUnits: 124))
    }

    @Test(
        "a CAC spike against a baseline near the largest amount is worded, not a trap",
        arguments: [AlertLocale.en, .zhCN])
    func hugeBaseline(locale: AlertLocale) {
        let spike = CACSpikeDetector.Spike(cac: Money(minorUnits: .max), baseline: 9.3e16, threshold: 1.5)
        let text = AlertText.cacSpike(
            spike, scope: .region("east"), period: "week", periodStart: "2026-03-02", newCustomers: 5, factor: 1.5,
            currency: "CNY", locale: locale)
        #expect(text.contains("9.3e+16"))
    }

    /// A source ahead of the watermark can bring a quarter's revenue in while the watermark is a
    /// millisecond into the quarter: revenue / pace is then beyond any amount.
    @Test("a projection beyond an amount is published as null; a normal one as revenue / pace")
    func projection() throws {
        let start: EpochMillis = 1_767_196_800_000  // 2026-01-01T00:00+08:00
        let end: EpochMillis = 1_775_059_200_000  // 2026-04-01T00:00+08:00
        var aggregate = KPIAggregate()
        aggregate.revenue = Money(minorUnits: 2_000_000_000)
        func projected(watermark: EpochMillis) throws -> Any? {
            let summary = Summary(
                scope: .region("east"), window: Window(kind: 0, start: start, end: end), windowName: "quarter",
                final: false, revision: 1, aggregate: aggregate, watermark: watermark,
                target: Money(minorUnits: 9_000_000_000), marketSize: nil)
            let json = summary.json(currency: "CNY", calendar: BusinessCalendar(timeZoneIdentifier: "Asia/Shanghai")!)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
            return object["projected"]
        }
        #expect(try projected(watermark: start + 1) is NSNull)
        // Half the quarter gone: twice the revenue, to the fen.
        #expect(try projected(watermark: start + (end - start) / 2) as? String == "40000000.00")
    }
}
