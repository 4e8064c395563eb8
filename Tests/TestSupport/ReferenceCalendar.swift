import Foundation
import Synchronization

/// Window arithmetic for reference computations, written independently of the domain's
/// calendar code: Asia/Shanghai has been a fixed UTC+8 since 1991, so boundaries are plain
/// Foundation calendar intervals in a fixed +08:00 zone.
package struct ReferenceCalendar: Sendable {
    private let calendar: Calendar

    package init() {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(secondsFromGMT: 8 * 3600)!
        calendar = c
    }

    package static let day: Int64 = 86_400_000

    private func date(_ t: Int64) -> Date { Date(timeIntervalSince1970: Double(t) / 1000) }
    private func millis(_ d: Date) -> Int64 { Int64((d.timeIntervalSince1970 * 1000).rounded()) }

    /// The interval of `kind` (day, week, month, quarter, or `7d/1d`-style hopping handled by the caller).
    package func interval(_ kind: String, containing t: Int64) -> (start: Int64, end: Int64) {
        let d = date(t)
        switch kind {
        case "day":
            let start = calendar.startOfDay(for: d)
            return (millis(start), millis(start) + Self.day)
        case "week":
            let start = calendar.startOfDay(for: d)
            let weekday = calendar.component(.weekday, from: d)  // 1 = Sunday
            let back = (weekday + 5) % 7
            let monday = millis(start) - Int64(back) * Self.day
            return (monday, monday + 7 * Self.day)
        case "month":
            let c = calendar.dateComponents([.year, .month], from: d)
            let start = calendar.date(from: c)!
            let end = calendar.date(byAdding: .month, value: 1, to: start)!
            return (millis(start), millis(end))
        case "quarter":
            var c = calendar.dateComponents([.year, .month], from: d)
            c.month = (c.month! - 1) / 3 * 3 + 1
            let start = calendar.date(from: c)!
            let end = calendar.date(byAdding: .month, value: 3, to: start)!
            return (millis(start), millis(end))
        default:
            fatalError("reference calendar has no kind \(kind)")
        }
    }

    /// The window a comparison looks at for the `kind` window starting at `start`: the one
    /// before it, or the same one a year earlier (52 weeks for a week).
    package func compared(_ kind: String, start: Int64, yearAgo: Bool) -> (start: Int64, end: Int64) {
        guard yearAgo else { return interval(kind, containing: start - 1) }
        if kind == "week" { return interval(kind, containing: start - 364 * Self.day) }
        let earlier = calendar.date(byAdding: .year, value: -1, to: date(start))!
        return interval(kind, containing: millis(earlier))
    }

    /// RFC 3339 text with an offset, parsed with Foundation (not the domain's parser).
    package static func parse(_ text: String) -> Int64 {
        let d = parsers.withLock { p in p.0.date(from: text) ?? p.1.date(from: text) }
        return Int64((d!.timeIntervalSince1970 * 1000).rounded())
    }

    private static let parsers: Mutex<(ISO8601DateFormatter, ISO8601DateFormatter)> = {
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        return Mutex((fractional, plain))
    }()

    package static func format(_ t: Int64, offsetHours: Int = 8, fraction: Bool = false) -> String {
        formatter(offsetHours: offsetHours, fraction: fraction).string(
            from: Date(timeIntervalSince1970: Double(t) / 1000))
    }

    package static func formatter(offsetHours: Int, fraction: Bool) -> ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(secondsFromGMT: offsetHours * 3600)
        f.formatOptions = fraction ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return f
    }
}
