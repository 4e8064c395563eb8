import Foundation

/// Calendar boundaries (day, Monday-start week, month, quarter) in the business time zone.
///
/// Boundaries go through Foundation's calendar once per window, never per event: callers cache
/// the interval they got (see `WindowAssigner`).
package struct BusinessCalendar: Sendable {
    package let timeZone: TimeZone
    /// The zone as configured: Foundation names some zones otherwise (`UTC` is `GMT`).
    package let zoneIdentifier: String
    private let calendar: Calendar

    package init?(timeZoneIdentifier: String) {
        guard let zone = TimeZone(identifier: timeZoneIdentifier) else { return nil }
        timeZone = zone
        zoneIdentifier = timeZoneIdentifier
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        calendar.firstWeekday = 2
        calendar.minimumDaysInFirstWeek = 4
        self.calendar = calendar
        // Most business zones have had one offset for decades: then formatting needs no lookups.
        let since = Date(timeIntervalSince1970: Double(Self.fixedSince / 1000))
        fixedOffset = zone.nextDaylightSavingTimeTransition(after: since) == nil ? zone.secondsFromGMT(for: since) : nil
    }

    /// 2000-01-01T00:00:00Z: from here on, a zone without transitions has `fixedOffset`.
    private static let fixedSince: EpochMillis = 946_684_800_000
    private let fixedOffset: Int?

    /// The interval of `unit` that contains `t`.
    package func interval(_ unit: WindowSpec.CalendarUnit, containing t: EpochMillis) -> (
        start: EpochMillis, end: EpochMillis
    ) {
        let date = Date(timeIntervalSince1970: Double(Timestamp.floorDiv(t, 1000)))
        let c = calendar.dateComponents([.year, .month, .day, .weekday], from: date)
        let (year, month, day) = (c.year!, c.month!, c.day!)
        switch unit {
        case .day:
            return (midnight(year, month, day), midnight(year, month, day + 1))
        case .week:
            let sinceMonday = (c.weekday! + 5) % 7
            return (midnight(year, month, day - sinceMonday), midnight(year, month, day - sinceMonday + 7))
        case .month:
            return (midnight(year, month, 1), midnight(year, month + 1, 1))
        case .quarter:
            let first = (month - 1) / 3 * 3 + 1
            return (midnight(year, first, 1), midnight(year, first + 3, 1))
        }
    }

    /// The window of `unit` just before the one starting at `start` (环比).
    package func previous(_ unit: WindowSpec.CalendarUnit, before start: EpochMillis) -> (
        start: EpochMillis, end: EpochMillis
    ) {
        interval(unit, containing: start - 1)
    }

    /// The same window a year earlier (同比): the same day, month or quarter of the year
    /// before, and for a week the one 52 weeks before, so Monday compares with Monday
    /// (docs/kpis.md, comparisons).
    package func yearEarlier(_ unit: WindowSpec.CalendarUnit, than start: EpochMillis) -> (
        start: EpochMillis, end: EpochMillis
    ) {
        if unit == .week {
            // Half a day into the day: a daylight-saving shift in between cannot cross midnight.
            return interval(.week, containing: start - 364 * Timestamp.millisPerDay + Timestamp.millisPerDay / 2)
        }
        let date = Date(timeIntervalSince1970: Double(Timestamp.floorDiv(start, 1000)))
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        let day = unit == .day ? c.day! : 1
        return interval(unit, containing: midnight(c.year! - 1, c.month!, day) + Timestamp.millisPerDay / 2)
    }

    /// Local midnight of a date; out-of-range days and months roll over (day 32 is next month's 1st).
    private func midnight(_ year: Int, _ month: Int, _ day: Int) -> EpochMillis {
        let date = calendar.date(from: DateComponents(year: year, month: month, day: day))!
        return EpochMillis((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// Whether `other` begins every day at the same instant, from 2000 on: the same zone, or two
    /// zones that have both kept one offset since then, the same one (Asia/Shanghai and
    /// Asia/Singapore). Zones with daylight saving are compared by name only.
    package func cutsSameDays(as other: BusinessCalendar) -> Bool {
        timeZone.identifier == other.timeZone.identifier || (fixedOffset != nil && fixedOffset == other.fixedOffset)
    }

    /// The UTC offset in seconds at `t`, for formatting boundaries in business time.
    package func offsetSeconds(at t: EpochMillis) -> Int {
        if let fixedOffset, t >= Self.fixedSince { return fixedOffset }
        return timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(Timestamp.floorDiv(t, 1000))))
    }
}
