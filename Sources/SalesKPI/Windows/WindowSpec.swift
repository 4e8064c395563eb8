/// One configured window kind (docs/kpis.md, scopes and windows).
package enum WindowSpec: Hashable, Sendable {
    /// Tumbling, aligned to the UTC epoch.
    case fixed(sizeMillis: Int64)
    /// Overlapping windows of `size`, one starting every `hop`, aligned to the UTC epoch.
    case hopping(sizeMillis: Int64, hopMillis: Int64)
    /// Aligned to the business calendar in the business time zone.
    case calendar(CalendarUnit)

    package enum CalendarUnit: String, Sendable, CaseIterable, Codable {
        case day, week, month, quarter

        // By case, not by raw value: a String-backed enum otherwise compares and hashes its
        // name, an extra string hash in every target and tracker lookup.
        package static func == (a: CalendarUnit, b: CalendarUnit) -> Bool { a.ordinal == b.ordinal }
        package func hash(into hasher: inout Hasher) { hasher.combine(ordinal) }
        private var ordinal: Int {
            switch self {
            case .day: 0
            case .week: 1
            case .month: 2
            case .quarter: 3
            }
        }
    }

    /// Parses `day|week|month|quarter`, a duration such as `15m`, `1h`, `7d`, or `size/hop` (`7d/1d`).
    package static func parse(_ text: String) -> WindowSpec? {
        if let unit = CalendarUnit(rawValue: text) { return .calendar(unit) }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 2 {
            guard let size = parseDuration(String(parts[0])), let hop = parseDuration(String(parts[1])),
                hop <= size, size % hop == 0
            else { return nil }
            return .hopping(sizeMillis: size, hopMillis: hop)
        }
        guard parts.count == 1, let size = parseDuration(text) else { return nil }
        return .fixed(sizeMillis: size)
    }

    /// `90s`, `15m`, `1h`, `7d`, `500ms` into milliseconds; nil when malformed or not positive.
    package static func parseDuration(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            // "ms" also ends in "s": only accept a purely numeric prefix.
            guard let value = Int64(number), value > 0 else { continue }
            let (product, overflow) = value.multipliedReportingOverflow(by: factor)
            return overflow ? nil : product
        }
        return nil
    }

    /// The name used in configuration and in the `window.kind` of summaries.
    package var name: String {
        switch self {
        case .calendar(let unit): unit.rawValue
        case .fixed(let size): WindowSpec.formatDuration(size)
        case .hopping(let size, let hop): WindowSpec.formatDuration(size) + "/" + WindowSpec.formatDuration(hop)
        }
    }

    /// The longest a window of this kind can be, for pruning state that open windows may still need.
    package var maxSpanMillis: Int64 {
        switch self {
        case .fixed(let size), .hopping(let size, _): size
        case .calendar(.day): 2 * Timestamp.millisPerDay
        case .calendar(.week): 8 * Timestamp.millisPerDay
        case .calendar(.month): 32 * Timestamp.millisPerDay
        case .calendar(.quarter): 93 * Timestamp.millisPerDay
        }
    }

    package static func formatDuration(_ millis: Int64) -> String {
        for (suffix, factor) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        where millis % factor == 0 {
            return String(millis / factor) + suffix
        }
        return String(millis) + "ms"
    }
}
