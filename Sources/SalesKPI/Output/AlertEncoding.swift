/// The JSON form of alerts on `kpi.alerts` (docs/outputs.md).
extension Alert {
    package func json(detectedAt: EpochMillis, calendar: BusinessCalendar) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.field("alert_id", id)
        w.field("rule", rule.rawValue)
        w.field("severity", severity.rawValue)
        w.beginObject("scope")
        w.field("kind", scope.kind.rawValue)
        w.field("id", scope.id)
        w.field("region", scope.kind == .company ? nil : scope.region)
        w.endObject()
        w.beginObject("period")
        w.field("kind", periodKind)
        w.field("start", timestamp: periodStart, offsetSeconds: calendar.offsetSeconds(at: periodStart))
        w.field("end", timestamp: periodEnd, offsetSeconds: calendar.offsetSeconds(at: periodEnd))
        w.endObject()
        w.field("observed", observed)
        w.field("threshold", threshold)
        w.field("baseline", baseline)
        w.field("message", message)
        w.field("event_time", timestamp: eventTime)
        w.field("detected_at", timestamp: detectedAt)
        w.endObject()
        return w.bytes
    }
}
