import Foundation
import TestSupport
import Testing

/// The alerts a run of the generated scenario must publish, from the independent reference,
/// and the alerts a run did publish, read back from `kpi.alerts`.
enum ScenarioAlerts {
    /// Alert id → severity, as the reference rules derive them for the scenario's test config.
    static func expected(_ model: ReferenceModel, finalWatermark: Int64) -> [String: String] {
        details(model, finalWatermark: finalWatermark).mapValues(\.severity)
    }

    /// Alert id → everything the alert must say.
    static func details(_ model: ReferenceModel, finalWatermark: Int64) -> [String: ReferenceAlerts.Expected] {
        let calendar = ReferenceCalendar()
        return ReferenceAlerts.details(
            model: model, targets: TestConfig.referenceTargets,
            cacScopes: ["east", "west", "north", "south"].map { ReferenceModel.Scope(kind: "region", region: $0) }
                + [ReferenceModel.Scope(kind: "company")],
            rules: ReferenceAlerts.Rules(), coverageStart: ScenarioGenerator.start - 3_600_000,
            from: calendar.interval("day", containing: ScenarioGenerator.start).start,
            through: calendar.interval("day", containing: finalWatermark).start)
    }

    /// Alert id → severity of the published alerts, and the ids published more than once.
    static func published(_ messages: [ReadMessage]) throws -> (bySeverity: [String: String], repeated: [String]) {
        var actual: [String: String] = [:]
        var repeated: [String] = []
        for m in messages {
            let json = try #require(try JSONSerialization.jsonObject(with: Data(m.value)) as? [String: Any])
            let id = try #require(json["alert_id"] as? String)
            if actual[id] != nil { repeated.append(id) }
            actual[id] = json["severity"] as? String
            #expect(!(json["message"] as? String ?? "").isEmpty, "alert \(id) has no message")
        }
        return (actual, repeated)
    }

    /// Every field of every published alert against the reference, in the test config's
    /// locale (`en`): "id: field actual != expected" for each that differs.
    static func fieldDifferences(_ messages: [ReadMessage], _ expected: [String: ReferenceAlerts.Expected]) throws
        -> [String]
    {
        var out: [String] = []
        for m in messages {
            let json = try #require(try JSONSerialization.jsonObject(with: Data(m.value)) as? [String: Any])
            let id = try #require(json["alert_id"] as? String)
            guard let e = expected[id] else { continue }
            var fields = FieldDifferences(prefix: id + ": ")
            defer { out += fields.lines }
            func check<T: Equatable>(_ name: String, _ actual: T?, _ wanted: T?) { fields.check(name, actual, wanted) }
            func close(_ name: String, _ actual: Double?, _ wanted: Double?) { fields.close(name, actual, wanted) }
            let scope = json["scope"] as? [String: Any] ?? [:]
            let period = json["period"] as? [String: Any] ?? [:]
            check("severity", json["severity"] as? String, e.severity)
            check("scope.kind", scope["kind"] as? String, e.scope.kind)
            check("scope.id", scope["id"] as? String, e.scope.id)
            check("scope.region", scope["region"] as? String, e.scope.kind == "company" ? nil : e.scope.region)
            check("period.kind", period["kind"] as? String, e.periodKind)
            check("period.start", (period["start"] as? String).map(ReferenceCalendar.parse), e.periodStart)
            check("period.end", (period["end"] as? String).map(ReferenceCalendar.parse), e.periodEnd)
            close("observed", json["observed"] as? Double, e.observed)
            close("threshold", json["threshold"] as? Double, e.threshold)
            close("baseline", json["baseline"] as? Double, e.baseline)
            if let eventTime = e.eventTime {
                check("event_time", (json["event_time"] as? String).map(ReferenceCalendar.parse), eventTime)
            }
            check("message", json["message"] as? String, e.messages["en"])
        }
        return out
    }

    /// The difference, for failure messages.
    static func difference(_ actual: [String: String], _ expected: [String: String]) -> String {
        "missing \(Set(expected.keys).subtracting(actual.keys).sorted()), unexpected \(Set(actual.keys).subtracting(expected.keys).sorted())"
    }
}
