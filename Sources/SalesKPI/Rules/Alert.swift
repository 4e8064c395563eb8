/// An alert for sales ops (docs/outputs.md, alerts). `detected_at` is added by the runtime when it publishes.
package struct Alert: Sendable, Equatable {
    package enum Rule: String, Sendable, Codable {
        case targetSlipping = "target.slipping"
        case targetRecovered = "target.recovered"
        case cacSpike = "cac.spike"
    }

    package enum Severity: String, Sendable, Codable {
        case info, warning, critical
    }

    /// Deterministic from rule, scope, period and transition, so downstream can dedupe re-sends.
    package var id: String
    package var rule: Rule
    package var severity: Severity
    package var scope: ScopeKey
    package var periodKind: String
    package var periodStart: EpochMillis
    package var periodEnd: EpochMillis
    package var observed: Double
    package var threshold: Double
    package var baseline: Double?
    package var message: String
    /// The watermark (event time) at which the rule fired.
    package var eventTime: EpochMillis

    package static func makeId(rule: Rule, scope: ScopeKey, periodKind: String, periodStart: EpochMillis, sequence: Int)
        -> String
    {
        "\(rule.rawValue):\(scope.kind.rawValue):\(scope.id):\(periodKind):\(Timestamp.format(periodStart)):\(sequence)"
    }
}
