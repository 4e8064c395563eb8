/// A summary's comparisons: the window before (环比) and the same window a year earlier (同比),
/// each nil when unknown (docs/kpis.md, comparisons).
package struct Comparisons: Sendable, Equatable {
    package struct Period: Sendable, Equatable {
        package var start: EpochMillis
        package var end: EpochMillis
        package var figures: PeriodFigures
    }

    package var previous: Period?
    package var yearAgo: Period?

    package init(previous: Period?, yearAgo: Period?) {
        self.previous = previous
        self.yearAgo = yearAgo
    }

    /// Region and company windows of a week, month or quarter are compared.
    package static func unit(of spec: WindowSpec, scope: ScopeKey) -> WindowSpec.CalendarUnit? {
        guard scope.kind != .rep, case .calendar(let unit) = spec, unit != .day else { return nil }
        return unit
    }

    /// Both comparisons of `window`, with `figures` giving a past window's figures by its start
    /// (nil: unknown).
    package init(
        _ unit: WindowSpec.CalendarUnit, _ window: Window, calendar: BusinessCalendar,
        figures: (EpochMillis) -> PeriodFigures?
    ) {
        func period(_ interval: (start: EpochMillis, end: EpochMillis)) -> Period? {
            figures(interval.start).map { Period(start: interval.start, end: interval.end, figures: $0) }
        }
        previous = period(calendar.previous(unit, before: window.start))
        yearAgo = period(calendar.yearEarlier(unit, than: window.start))
    }
}
