/// Human sentences for alerts, in the configured locale, with the numbers that explain them.
package enum AlertText {
    package static func targetTransition(
        _ t: TargetTracker.Transition, scope: ScopeKey, period: String, target: Money, currency: String,
        locale: AlertLocale
    ) -> String {
        let who = subject(scope, locale)
        let done = pct(t.attainment)
        let elapsed = pct(t.pace)
        let projected = pct(t.projectedAttainment)
        switch (t.rule, locale) {
        case (.targetRecovered, .en):
            return "\(who) is back on pace for its \(period) target: \(done) of \(target) \(currency) achieved "
                + "with \(elapsed) of the period elapsed (projected \(projected))."
        case (.targetRecovered, .zhCN):
            return
                "\(who)\(periodZH(period))目标进度已恢复：已完成目标 \(target) \(currency) 的 \(done)，时间已过 \(elapsed)，预计完成 \(projected)。"
        case (_, .en):
            return "\(who) is behind its \(period) target: \(done) of \(target) \(currency) achieved with \(elapsed) "
                + "of the period elapsed; projected \(projected) of target."
        case (_, .zhCN):
            return
                "\(who)\(periodZH(period))目标进度落后：已完成目标 \(target) \(currency) 的 \(done)，时间已过 \(elapsed)，预计仅完成 \(projected)。"
        }
    }

    package static func cacSpike(
        _ s: CACSpikeDetector.Spike, scope: ScopeKey, period: String, periodStart: String, newCustomers: Int,
        factor: Double, currency: String, locale: AlertLocale
    ) -> String {
        let baseline = Money(rounding: s.baseline * 100).map(\.description) ?? fixed(s.baseline, 2)
        let multiple = fixed(s.cac.doubleValue / s.baseline, 2)
        switch locale {
        case .en:
            return "CAC of \(subject(scope, .en)) spiked to \(s.cac) \(currency) in the \(period) from \(periodStart) "
                + "(baseline \(baseline), ×\(multiple), threshold ×\(fixed(factor, 2))) with \(newCustomers) new customers."
        case .zhCN:
            return "\(subject(scope, .zhCN))获客成本激增：\(periodStart) 起的\(periodZH(period))CAC 为 \(s.cac) \(currency)，"
                + "基线 \(baseline)（×\(multiple)，阈值 ×\(fixed(factor, 2))），新增客户 \(newCustomers) 个。"
        }
    }

    private static func subject(_ scope: ScopeKey, _ locale: AlertLocale) -> String {
        let region = DisplayName.of(scope.region)
        let rep = DisplayName.of(scope.rep)
        return switch (scope.kind, locale) {
        case (.company, .en): "The company"
        case (.company, .zhCN): "公司整体"
        case (.region, .en): "Region \(region)"
        case (.region, .zhCN): "区域 \(region) "
        case (.rep, .en): "Rep \(rep) (\(region))"
        case (.rep, .zhCN): "销售 \(rep)（\(region)）"
        }
    }

    private static func periodZH(_ period: String) -> String {
        switch period {
        case "day": "本日"
        case "week": "本周"
        case "month": "本月"
        case "quarter": "本季度"
        default: period + " 窗口"
        }
    }

    private static func pct(_ x: Double) -> String { fixed(x * 100, 1) + "%" }

    /// Fixed-point formatting without Foundation's locale-dependent formatters; beyond an Int64
    /// of the last decimal, Swift's shortest form ("1.5e+20"): a multiple of a restored CAC
    /// baseline can be that large (state fuzzer, scripts/fuzz.sh).
    package static func fixed(_ x: Double, _ decimals: Int) -> String {
        guard x.isFinite else { return x.isNaN ? "NaN" : (x < 0 ? "-∞" : "∞") }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        guard let scaled = Int64(exactly: (abs(x) * scale).rounded()) else { return "\(x)" }
        let whole = scaled / Int64(scale)
        var frac = String(scaled % Int64(scale))
        while frac.count < decimals { frac = "0" + frac }
        return (x < 0 && scaled != 0 ? "-" : "") + String(whole) + (decimals > 0 ? "." + frac : "")
    }
}
