import Foundation

/// What notify reads of an alert on `kpi.alerts` (docs/outputs.md): routing fields, the message
/// in the alert's locale, and the original bytes for generic webhooks and dead letters.
package struct AlertNotice: Sendable, Equatable {
    package var alertId: String
    package var rule: String
    package var severity: String
    package var scopeId: String
    /// nil for company alerts.
    package var region: String?
    package var periodKind: String
    package var periodStart: String
    package var message: String
    package var raw: [UInt8]

    /// nil when the bytes are not an alert this version wrote.
    package init?(json raw: [UInt8]) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(raw)) as? [String: Any],
            let id = object["alert_id"] as? String, let rule = object["rule"] as? String,
            let severity = object["severity"] as? String, let scope = object["scope"] as? [String: Any],
            let message = object["message"] as? String
        else { return nil }
        let period = object["period"] as? [String: Any] ?? [:]
        alertId = id
        self.rule = rule
        self.severity = severity
        scopeId = scope["id"] as? String ?? ""
        region = scope["region"] as? String
        periodKind = period["kind"] as? String ?? ""
        periodStart = period["start"] as? String ?? ""
        self.message = message
        self.raw = raw
    }

    /// One line for chat: severity, rule, scope and period, then the message.
    package var text: String {
        "[\(severity)] \(rule) \(scopeId) \(periodKind) \(periodStart.prefix(10))\n\(message)"
    }
}
