/// Everything the domain needs to know from configuration, already validated.
package struct KPISettings: Sendable {
    package var windows: [WindowSpec]
    package var calendar: BusinessCalendar
    package var allowedLatenessMillis: Int64 = 3_600_000
    /// Event ids are remembered this long beyond the watermark, on top of the allowed lateness.
    package var dedupeHorizonMillis: Int64 = 3_600_000
    /// Wall-clock time without input after which a shard's watermark follows the wall clock.
    package var idleTimeoutMillis: Int64 = 30_000
    /// Least wall-clock time between two provisional summaries of one window.
    package var emitIntervalMillis: Int64 = 5_000
    package var reportingCurrency = "CNY"
    package var targets = TargetBook()
    package var markets = MarketBook()
    package var rules = RuleSettings()
    package var locale = AlertLocale.zhCN
    /// Regions one shard keeps (`processing.max_regions`); events of more are `scope_limit`.
    package var maxRegions = 1_000
    /// Reps one region keeps (`processing.max_reps_per_region`).
    package var maxRepsPerRegion = 10_000
    /// Event time after its latest event at which a rep scope with no open window and no
    /// target is dropped (`processing.rep_idle_timeout`).
    package var repIdleMillis: EpochMillis = 90 * Timestamp.millisPerDay
    /// How long after its end a final window can still be revised by a corrected deal
    /// (`time.revision_horizon`); nil for the default, the longest window plus the allowed
    /// lateness, and 0 to never revise a final.
    package var revisionHorizonSetting: Int64?

    package init(windows: [WindowSpec], calendar: BusinessCalendar) {
        self.windows = windows
        self.calendar = calendar
    }

    /// The configured kind index of a calendar unit, if that window is configured.
    package func kindIndex(of unit: WindowSpec.CalendarUnit) -> UInt8? {
        windows.firstIndex(of: .calendar(unit)).map { UInt8($0) }
    }

    package func kindIndex(named name: String) -> UInt8? {
        windows.firstIndex { $0.name == name }.map { UInt8($0) }
    }

    /// Whether `w` could be a window of this configuration: a configured kind, no longer than
    /// that kind's windows, and holding some time of the years events can have
    /// (`Timestamp.representableYears`). Bytes from a topic can make any other window; its span,
    /// or its comparison window a year earlier, would then overflow an Int64 and trap (state
    /// fuzzer, scripts/fuzz.sh).
    package func isValid(_ w: Window) -> Bool {
        guard Int(w.kind) < windows.count, w.start < w.end else { return false }
        let (span, overflow) = w.end.subtractingReportingOverflow(w.start)
        return !overflow && span <= windows[Int(w.kind)].maxSpanMillis
            && w.start <= Timestamp.representableYears.upperBound && w.end > Timestamp.representableYears.lowerBound
    }

    /// Whether `w` is a window its kind makes: a valid one, aligned and as long as that kind's
    /// windows. A region summary numbered by another `time.windows` list (in flight on the rollup
    /// topic when the list changed) almost never is: a week's bounds are no month's.
    package func isAligned(_ w: Window) -> Bool {
        guard isValid(w) else { return false }
        switch windows[Int(w.kind)] {
        case .fixed(let size):
            return w.end - w.start == size && Timestamp.floorDiv(w.start, size) * size == w.start
        case .hopping(let size, let hop):
            return w.end - w.start == size && Timestamp.floorDiv(w.start, hop) * hop == w.start
        case .calendar(let unit):
            let interval = calendar.interval(unit, containing: w.start)
            return interval.start == w.start && interval.end == w.end
        }
    }

    /// The longest window span: state older than the watermark minus this can no longer matter.
    package var maxWindowSpanMillis: Int64 { windows.map(\.maxSpanMillis).max() ?? 0 }

    /// `revisionHorizonSetting`, its default resolved: a correction the deal books still
    /// recognize (they remember outcomes for the longest window) reaches every window it changes.
    package var revisionHorizonMillis: Int64 { revisionHorizonSetting ?? maxWindowSpanMillis + allowedLatenessMillis }
}
