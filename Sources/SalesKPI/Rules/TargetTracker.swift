/// The `target.slipping` / `target.recovered` state machine of one scope and target period.
///
/// It is fed the revenue of each closed business day and evaluated at each day close, so its
/// transitions depend only on event time, never on batch boundaries or arrival timing.
package struct TargetTracker: Sendable, Equatable, Codable {
    package var revenueSoFar = Money.zero
    package private(set) var slipping = false
    package private(set) var transitions = 0

    package struct Transition: Sendable, Equatable {
        package var rule: Alert.Rule
        package var severity: Alert.Severity
        package var sequence: Int
        package var attainment: Double
        package var pace: Double
        package var ratio: Double
        package var projectedAttainment: Double
        package var threshold: Double
    }

    package init() {}

    /// Evaluates progress at `pace` (elapsed fraction of the period); returns a transition at most
    /// once per crossing.
    package mutating func evaluate(target: Money, pace: Double, rule: RuleSettings.TargetSlipping) -> Transition? {
        guard rule.enabled, target.minorUnits > 0, pace >= rule.minElapsed, pace > 0 else { return nil }
        let attainment = revenueSoFar.doubleValue / target.doubleValue
        let ratio = attainment / pace
        let slipThreshold = 1 - rule.tolerance
        let recoverThreshold = slipThreshold + rule.hysteresis
        if !slipping, ratio < slipThreshold {
            slipping = true
            transitions += 1
            let critical = ratio < rule.criticalProjection
            return Transition(
                rule: .targetSlipping, severity: critical ? .critical : .warning, sequence: transitions,
                attainment: attainment, pace: pace, ratio: ratio, projectedAttainment: ratio, threshold: slipThreshold)
        }
        if slipping, ratio > recoverThreshold {
            slipping = false
            transitions += 1
            return Transition(
                rule: .targetRecovered, severity: .info, sequence: transitions, attainment: attainment, pace: pace,
                ratio: ratio, projectedAttainment: ratio, threshold: recoverThreshold)
        }
        return nil
    }
}

/// The shard changelog's form, part of its `r` record (docs/outputs.md); the rollup's
/// changelog keeps the Codable form.
extension TargetTracker {
    func write(to w: inout BinaryWriter) {
        w.int(revenueSoFar.minorUnits)
        w.bool(slipping)
        w.int(transitions)
    }

    init(reading r: inout BinaryReader) throws(BinaryReader.Malformed) {
        revenueSoFar = Money(minorUnits: try r.int())
        slipping = try r.bool()
        transitions = Int(clamping: try r.int())
    }
}
