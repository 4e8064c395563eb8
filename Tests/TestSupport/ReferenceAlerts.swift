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

    /// Everything an alert on `kpi.alerts` says, as docs/kpis.md and docs/outputs.md define it.
    package struct Expected: Sendable, Equatable {
        package var severity: String
        package var scope: ReferenceModel.Scope
        package var periodKind: String
        package var periodStart: Int64
        package var periodEnd: Int64
        package var observed: Double
        package var threshold: Double
        package var baseline: Double?
        /// The business-day boundary a target rule fired at; nil for CAC spikes (the watermark).
        package var eventTime: Int64?
        /// The message in each locale, keyed `en` and `zh-CN`.
        package var messages: [String: String]
    }

    /// alert id → severity (see `details`).
    package static func expected(
        model: ReferenceModel, targets: [Target], cacScopes: [ReferenceModel.Scope], rules: Rules,
        coverageStart: Int64, from firstBoundary: Int64, through lastBoundary: Int64
    ) -> [String: String] {
        details(
            model: model, targets: targets, cacScopes: cacScopes, rules: rules, coverageStart: coverageStart,
            from: firstBoundary, through: lastBoundary
        ).mapValues(\.severity)
    }

    /// alert id → the whole alert, for target rules evaluated at each business-day close in
    /// `[firstBoundary, lastBoundary]` for periods starting at or after `coverageStart` (the
    /// first watermark), and CAC spikes on every closed week up to `lastBoundary`.
    package static func details(
        model: ReferenceModel, targets: [Target], cacScopes: [ReferenceModel.Scope], rules: Rules,
        coverageStart: Int64, from firstBoundary: Int64, through lastBoundary: Int64, currency: String = "CNY"
    ) -> [String: Expected] {
        let calendar = ReferenceCalendar()
        var out: [String: Expected] = [:]
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
                    func alert(_ severity: String, threshold: Double, recovered: Bool) -> Expected {
                        let attainment = (Double(revenue) / 100) / (Double(target.amountMinor) / 100)
                        return Expected(
                            severity: severity, scope: target.scope, periodKind: target.period,
                            periodStart: period.start, periodEnd: period.end, observed: ratio, threshold: threshold,
                            baseline: nil, eventTime: b,
                            messages: [
                                "en": Text.target(
                                    recovered: recovered, target.scope, target.period, target.amountMinor, currency,
                                    attainment: attainment, pace: pace, projected: ratio, zh: false),
                                "zh-CN": Text.target(
                                    recovered: recovered, target.scope, target.period, target.amountMinor, currency,
                                    attainment: attainment, pace: pace, projected: ratio, zh: true),
                            ])
                    }
                    if !state.slipping, ratio < 1 - rules.tolerance {
                        state.slipping = true
                        state.seq += 1
                        out[id("target.slipping")] = alert(
                            ratio < rules.criticalProjection ? "critical" : "warning", threshold: 1 - rules.tolerance,
                            recovered: false)
                    } else if state.slipping, ratio > 1 - rules.tolerance + rules.hysteresis {
                        state.slipping = false
                        state.seq += 1
                        out[id("target.recovered")] = alert(
                            "info", threshold: 1 - rules.tolerance + rules.hysteresis, recovered: true)
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
                            let day = String(ReferenceCalendar.format(week.start).prefix(10))
                            func text(_ zh: Bool) -> String {
                                Text.cac(
                                    scope, cacMinor: cac, baseline: baseline, factor: rules.factor, day: day,
                                    newCustomers: a.newCustomers, currency: currency, zh: zh)
                            }
                            out[
                                "cac.spike:\(scope.kind):\(scope.id):week:\(ReferenceCalendar.format(week.start, offsetHours: 0)):1"
                            ] = Expected(
                                severity: "warning", scope: scope, periodKind: "week", periodStart: week.start,
                                periodEnd: week.end, observed: Double(cac) / 100, threshold: baseline * rules.factor,
                                baseline: baseline, eventTime: nil, messages: ["en": text(false), "zh-CN": text(true)])
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

    /// The alert sentences of docs/kpis.md (alerts), written out again here: names, money with
    /// two decimals, percentages with one.
    package enum Text {
        package static func percent(_ x: Double) -> String { fixed(x * 100, 1) + "%" }

        /// Rounded half away from zero, as a sentence shows it.
        package static func fixed(_ x: Double, _ decimals: Int) -> String {
            let scale = decimals == 1 ? 10.0 : 100.0
            let v = Int64((abs(x) * scale).rounded(.toNearestOrAwayFromZero))
            let sign = x < 0 && v != 0 ? "-" : ""
            let frac = String(v % Int64(scale))
            return sign + String(v / Int64(scale)) + "." + String(repeating: "0", count: decimals - frac.count) + frac
        }

        package static func subject(_ scope: ReferenceModel.Scope, zh: Bool) -> String {
            switch (scope.kind, zh) {
            case ("company", false): "The company"
            case ("company", true): "公司整体"
            case ("region", false): "Region \(scope.region)"
            case ("region", true): "区域 \(scope.region) "
            case (_, false): "Rep \(scope.rep) (\(scope.region))"
            default: "销售 \(scope.rep)（\(scope.region)）"
            }
        }

        package static func periodZH(_ period: String) -> String {
            ["day": "本日", "week": "本周", "month": "本月", "quarter": "本季度"][period] ?? period + " 窗口"
        }

        package static func target(
            recovered: Bool, _ scope: ReferenceModel.Scope, _ period: String, _ amountMinor: Int64, _ currency: String,
            attainment: Double, pace: Double, projected: Double, zh: Bool
        ) -> String {
            let who = subject(scope, zh: zh)
            let amount = ReferenceModel.money(amountMinor)
            let (done, elapsed, proj) = (percent(attainment), percent(pace), percent(projected))
            switch (recovered, zh) {
            case (true, false):
                return
                    "\(who) is back on pace for its \(period) target: \(done) of \(amount) \(currency) achieved with \(elapsed) of the period elapsed (projected \(proj))."
            case (true, true):
                return
                    "\(who)\(periodZH(period))目标进度已恢复：已完成目标 \(amount) \(currency) 的 \(done)，时间已过 \(elapsed)，预计完成 \(proj)。"
            case (false, false):
                return
                    "\(who) is behind its \(period) target: \(done) of \(amount) \(currency) achieved with \(elapsed) of the period elapsed; projected \(proj) of target."
            case (false, true):
                return
                    "\(who)\(periodZH(period))目标进度落后：已完成目标 \(amount) \(currency) 的 \(done)，时间已过 \(elapsed)，预计仅完成 \(proj)。"
            }
        }

        package static func cac(
            _ scope: ReferenceModel.Scope, cacMinor: Int64, baseline: Double, factor: Double, day: String,
            newCustomers: Int, currency: String, zh: Bool
        ) -> String {
            let cac = ReferenceModel.money(cacMinor)
            let base = ReferenceModel.money(Int64((baseline * 100).rounded(.toNearestOrAwayFromZero)))
            let multiple = fixed((Double(cacMinor) / 100) / baseline, 2)
            let threshold = fixed(factor, 2)
            if zh {
                return
                    "\(subject(scope, zh: true))获客成本激增：\(day) 起的本周CAC 为 \(cac) \(currency)，基线 \(base)（×\(multiple)，阈值 ×\(threshold)），新增客户 \(newCustomers) 个。"
            }
            return
                "CAC of \(subject(scope, zh: false)) spiked to \(cac) \(currency) in the week from \(day) (baseline \(base), ×\(multiple), threshold ×\(threshold)) with \(newCustomers) new customers."
        }
    }
}
