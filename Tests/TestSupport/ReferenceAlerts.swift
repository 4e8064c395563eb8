import Foundation

/// The alerts docs/kpis.md implies for a scenario, computed from `ReferenceModel` with its own
/// state machines (not the domain's rule code).
package struct ReferenceAlerts {
    package struct Target: Sendable {
        package var scope: ReferenceModel.Scope
        package var period: String
        package var amountMinor: Int64

        package init(scope: ReferenceModel.Scope, period: String, amountMinor: Int64) {
            self.scope = scope
            self.period = period
            self.amountMinor = amountMinor
        }
    }

    package struct Rules: Sendable {
        package var minElapsed = 0.20
        package var tolerance = 0.15
        package var criticalProjection = 0.70
        package var hysteresis = 0.05
        package var baselineWindows = 8
        package var minHistory = 4
        package var factor = 1.5
        package var minCustomers = 5

        package init() {}
    }

    /// alert id → severity, for target rules evaluated at each business-day close in
    /// `[firstBoundary, lastBoundary]` for periods starting at or after `coverageStart` (the
    /// first watermark), and CAC spikes on every closed week up to `lastBoundary`.
    package static func expected(
        model: ReferenceModel, targets: [Target], cacScopes: [ReferenceModel.Scope], rules: Rules,
        coverageStart: Int64, from firstBoundary: Int64, through lastBoundary: Int64
    ) -> [String: String] {
        let calendar = ReferenceCalendar()
        var out: [String: String] = [:]
        for target in targets {
            var state: (periodStart: Int64, slipping: Bool, seq: Int) = (.min, false, 0)
            var b = firstBoundary
            while b <= lastBoundary {
                let period = calendar.interval(target.period, containing: b - 1)
                if period.start != state.periodStart { state = (period.start, false, 0) }
                let pace = Double(b - period.start) / Double(period.end - period.start)
                let revenue = model.aggregate(target.scope, start: period.start, end: b).revenue
                if period.start >= coverageStart, pace >= rules.minElapsed, pace > 0 {
                    let ratio = (Double(revenue) / 100) / (Double(target.amountMinor) / 100) / pace
                    let id = { (rule: String) in
                        "\(rule):\(target.scope.kind):\(target.scope.id):\(target.period):\(ReferenceCalendar.format(period.start, offsetHours: 0)):\(state.seq)"
                    }
                    if !state.slipping, ratio < 1 - rules.tolerance {
                        state.slipping = true
                        state.seq += 1
                        out[id("target.slipping")] = ratio < rules.criticalProjection ? "critical" : "warning"
                    } else if state.slipping, ratio > 1 - rules.tolerance + rules.hysteresis {
                        state.slipping = false
                        state.seq += 1
                        out[id("target.recovered")] = "info"
                    }
                }
                b += ReferenceCalendar.day
            }
        }
        for scope in cacScopes {
            var history: [Int64] = []
            var week = calendar.interval("week", containing: firstBoundary - 1)
            while week.end <= lastBoundary {
                let a = model.aggregate(scope, start: week.start, end: week.end)
                if a.newCustomers > 0 {
                    let cac = Int64(
                        ReferenceModel.moneyRatio(a.spend, a.newCustomers)!.replacingOccurrences(of: ".", with: ""))!
                    if history.count >= rules.minHistory, a.newCustomers >= rules.minCustomers {
                        let baseline = Double(history.reduce(0, +)) / Double(history.count) / 100
                        if Double(cac) / 100 > baseline * rules.factor {
                            out[
                                "cac.spike:\(scope.kind):\(scope.id):week:\(ReferenceCalendar.format(week.start, offsetHours: 0)):1"
                            ] = "warning"
                        }
                    }
                    history.append(cac)
                    if history.count > rules.baselineWindows { history.removeFirst() }
                }
                week = (week.end, week.end + 7 * ReferenceCalendar.day)
            }
        }
        return out
    }
}
