import Foundation
import TestSupport
import Testing

/// The alerts a run of the generated scenario must publish, from the independent reference,
/// and the alerts a run did publish, read back from `kpi.alerts`.
enum ScenarioAlerts {
    /// Alert id → severity, as the reference rules derive them for the scenario's test config.
    static func expected(_ model: ReferenceModel, finalWatermark: Int64) -> [String: String] {
        let calendar = ReferenceCalendar()
        return ReferenceAlerts.expected(
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

    /// The difference, for failure messages.
    static func difference(_ actual: [String: String], _ expected: [String: String]) -> String {
        "missing \(Set(expected.keys).subtracting(actual.keys).sorted()), unexpected \(Set(actual.keys).subtracting(expected.keys).sorted())"
    }
}
