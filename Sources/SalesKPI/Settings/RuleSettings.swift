/// Thresholds of the alert rules (docs/kpis.md, alerts); every rule can be switched off.
package struct RuleSettings: Sendable, Equatable {
    package struct TargetSlipping: Sendable, Equatable {
        package var enabled = true
        package var minElapsed = 0.20
        package var tolerance = 0.15
        package var criticalProjection = 0.70
        package var hysteresis = 0.05
        package init() {}
    }

    package struct CACSpike: Sendable, Equatable {
        package var enabled = true
        /// The window kind whose closing triggers the comparison.
        package var window = "week"
        package var baselineWindows = 8
        package var minHistory = 4
        package var factor = 1.5
        package var minCustomers = 5
        package init() {}
    }

    package var targetSlipping = TargetSlipping()
    package var cacSpike = CACSpike()

    package init() {}
}
