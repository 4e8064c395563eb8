import Foundation
import SalesKPI

/// The validated configuration: raw file contents plus what the domain and runtime derive from them.
package struct ResolvedConfig: Sendable {
    package var worker: WorkerConfig
    package var targetsFile: TargetsFile
    package var marketsFile: MarketsFile
    package var settings: KPISettings
    package var decoder: EventDecoder
    package var commitIntervalMillis: Int64
    package var stallTimeoutMillis: Int64
    package var simulatorSpeedMillis: Int64
    package var simulatorStart: EpochMillis

    /// Internal topic settings left empty and derived from `kafka.group_id`.
    package var derivedTopics: [String] = []

    /// True when no brokers are configured: only `salespulse run --embedded` (the demo) runs so.
    package var hasNoBrokers: Bool { worker.kafka.brokers.trimmingCharacters(in: .whitespaces).isEmpty }

    /// Validates everything, reporting every problem at once, each naming its key.
    package static func resolve(_ raw: WorkerConfig, _ t: TargetsFile, _ m: MarketsFile) throws(ConfigError)
        -> ResolvedConfig
    {
        var problems: [String] = []
        func problem(_ key: String, _ text: String) { problems.append("worker.yaml: \(key): \(text)") }
        var w = raw
        let derivedTopics = InternalTopics.derive(&w.topics, groupId: w.kafka.groupId)
        func fraction(_ key: String, _ x: Double, allowOne: Bool = false) {
            if !(x >= 0 && (allowOne ? x <= 1 : x < 1)) { problem(key, "\(x) must be between 0 and 1") }
        }

        let calendar = BusinessCalendar(timeZoneIdentifier: w.time.timeZone)
        if calendar == nil { problem("time.time_zone", "'\(w.time.timeZone)' is not a known IANA time zone") }
        var windows: [WindowSpec] = []
        if w.time.windows.isEmpty { problem("time.windows", "at least one window is needed") }
        // Window kinds are numbered with one byte in state and rollup records.
        if w.time.windows.count > 255 { problem("time.windows", "at most 255 windows, not \(w.time.windows.count)") }
        for (k, name) in w.time.windows.enumerated() {
            guard let spec = WindowSpec.parse(name) else {
                problem(
                    "time.windows[\(k)]",
                    "'\(name)' is not day, week, month, quarter, a duration (15m, 1h) or size/hop (7d/1d)")
                continue
            }
            if windows.contains(spec) { problem("time.windows[\(k)]", "'\(name)' is listed twice") }
            windows.append(spec)
        }
        // Kept finals cost memory per window; a year and a quarter covers a quarter a year late.
        if case .duration(let h) = w.time.revisionHorizon, h.millis > 460 * Timestamp.millisPerDay {
            problem("time.revision_horizon", "'\(h)' is more than 460d")
        }
        let simStart = Timestamp.parse(w.simulator.start)
        if simStart == nil { problem("simulator.start", "'\(w.simulator.start)' is not an RFC 3339 timestamp") }
        if !(1...2999).contains(w.time.earliestYear) {
            problem("time.earliest_year", "must be a year between 1 and 2999")
        }
        if !(1...2999).contains(w.time.latestYear) || w.time.latestYear < w.time.earliestYear {
            problem("time.latest_year", "must be a year not before time.earliest_year and before 3000")
        }
        if !(1...10_000).contains(w.topics.internalPartitions) {
            problem("topics.internal_partitions", "must be between 1 and 10000")
        }
        if !(1...1_000_000).contains(w.processing.maxRegions) {
            problem("processing.max_regions", "must be between 1 and 1000000")
        }
        if !(1...10_000_000).contains(w.processing.maxRepsPerRegion) {
            problem("processing.max_reps_per_region", "must be between 1 and 10000000")
        }
        if !(1024...16_777_216).contains(w.processing.maxEventBytes) {
            problem("processing.max_event_bytes", "must be between 1024 and 16777216")
        }
        if !(1...100_000).contains(w.processing.pollBatch) {
            problem("processing.poll_batch", "must be between 1 and 100000")
        }
        if !(1...64).contains(w.processing.aggregateThreads) {
            problem("processing.aggregate_threads", "must be between 1 and 64")
        }
        if !(1...10_000).contains(w.topics.partitions) { problem("topics.partitions", "must be between 1 and 10000") }
        if !(1...16).contains(w.topics.replicationFactor) {
            problem("topics.replication_factor", "must be between 1 and 16")
        }
        let topicNames = [
            ("topics.deals", w.topics.deals), ("topics.customers", w.topics.customers),
            ("topics.spend", w.topics.spend),
            ("topics.summaries", w.topics.summaries), ("topics.alerts", w.topics.alerts), ("topics.dlq", w.topics.dlq),
            ("topics.internal", w.topics.internal), ("topics.changelog", w.topics.changelog),
            ("topics.rollup", w.topics.rollup), ("topics.rollup_changelog", w.topics.rollupChangelog),
        ]
        for (key, name) in topicNames where !isValidTopic(name) {
            let origin =
                derivedTopics.contains(key) ? " (derived from kafka.group_id; set the topic or fix the group)" : ""
            problem(key, "'\(name)' is not a valid topic name (1-249 of a-z A-Z 0-9 . _ -)\(origin)")
        }
        for (k, (key, name)) in topicNames.enumerated()
        where k >= 3 && topicNames[..<k].contains(where: { $0.1 == name }) {
            problem(key, "'\(name)' is already used by another topic setting")
        }
        if !(0...65535).contains(w.observability.port) { problem("observability.port", "must be between 0 and 65535") }
        if w.observability.bind.isEmpty { problem("observability.bind", "must be an address such as 0.0.0.0") }
        if w.kafka.groupId.isEmpty { problem("kafka.group_id", "must not be empty") }

        let currency = w.money.reportingCurrency
        if !isCurrencyCode(currency) {
            problem("money.reporting_currency", "'\(currency)' is not an ISO 4217 code such as CNY")
        }
        var rates: [String: DecimalNumber] = [:]
        for (code, text) in w.money.fx.sorted(by: { $0.key < $1.key }) {
            if !isCurrencyCode(code) { problem("money.fx.\(code)", "'\(code)' is not an ISO 4217 code") }
            guard let rate = DecimalNumber.parse(text), rate.mantissa > 0 else {
                problem("money.fx.\(code)", "'\(text)' is not a positive decimal rate")
                continue
            }
            rates[code] = rate
        }

        var rules = RuleSettings()
        let ts = w.alerts.targetSlipping
        fraction("alerts.target_slipping.min_elapsed", ts.minElapsed, allowOne: true)
        fraction("alerts.target_slipping.tolerance", ts.tolerance)
        fraction("alerts.target_slipping.critical_projection", ts.criticalProjection, allowOne: true)
        fraction("alerts.target_slipping.hysteresis", ts.hysteresis)
        rules.targetSlipping.enabled = ts.enabled
        rules.targetSlipping.minElapsed = ts.minElapsed
        rules.targetSlipping.tolerance = ts.tolerance
        rules.targetSlipping.criticalProjection = ts.criticalProjection
        rules.targetSlipping.hysteresis = ts.hysteresis
        let cs = w.alerts.cacSpike
        if cs.enabled, !windows.contains(where: { $0.name == cs.window }) {
            problem(
                "alerts.cac_spike.window",
                "'\(cs.window)' is not one of time.windows (\(w.time.windows.joined(separator: ", ")))")
        }
        if !(1...1000).contains(cs.baselineWindows) {
            problem("alerts.cac_spike.baseline_windows", "must be between 1 and 1000")
        }
        if !(1...cs.baselineWindows).contains(cs.minHistory) {
            problem("alerts.cac_spike.min_history", "must be between 1 and baseline_windows")
        }
        if !(cs.factor > 1) { problem("alerts.cac_spike.factor", "must be greater than 1") }
        if cs.minCustomers < 0 { problem("alerts.cac_spike.min_customers", "must not be negative") }
        rules.cacSpike.enabled = cs.enabled
        rules.cacSpike.window = cs.window
        rules.cacSpike.baselineWindows = cs.baselineWindows
        rules.cacSpike.minHistory = cs.minHistory
        rules.cacSpike.factor = cs.factor
        rules.cacSpike.minCustomers = cs.minCustomers

        var targets = TargetBook()
        for (k, entry) in t.targets.enumerated() {
            let key = "targets.yaml: targets[\(k)]"
            guard let unit = WindowSpec.CalendarUnit(rawValue: entry.period), unit != .day else {
                problems.append("\(key).period: '\(entry.period)' is not week, month or quarter")
                continue
            }
            if !windows.contains(.calendar(unit)) {
                problems.append("\(key).period: '\(entry.period)' must also be one of time.windows in worker.yaml")
            }
            if !windows.contains(.calendar(.day)) {
                problems.append("\(key): targets are evaluated at each business-day close, so time.windows needs 'day'")
            }
            guard let amount = DecimalNumber.parse(entry.amount), amount.mantissa > 0,
                let money = Money.convert(amount, rate: DecimalNumber(mantissa: 1, exponent: 0))
            else {
                problems.append("\(key).amount: '\(entry.amount)' is not a positive decimal amount")
                continue
            }
            let scope: ScopeKey
            switch entry.scope {
            case "company": scope = .company
            case "region":
                guard let region = entry.region, !region.isEmpty else {
                    problems.append("\(key).region: required for scope region")
                    continue
                }
                scope = .region(region)
            case "rep":
                guard let region = entry.region, !region.isEmpty, let rep = entry.rep, !rep.isEmpty else {
                    problems.append("\(key): scope rep needs both region and rep")
                    continue
                }
                scope = .rep(rep, in: region)
            default:
                problems.append("\(key).scope: '\(entry.scope)' is not rep, region or company")
                continue
            }
            if targets.target(for: scope, period: unit) != nil {
                problems.append("\(key): a \(entry.period) target for \(scope.id) is already defined")
            }
            targets.set(money, for: scope, period: unit)
        }

        var markets = MarketBook()
        func market(_ key: String, _ region: String?, _ sizes: [String: String]) {
            for (kind, text) in sizes.sorted(by: { $0.key < $1.key }) {
                if !windows.contains(where: { $0.name == kind }) {
                    problems.append("markets.yaml: \(key).\(kind): '\(kind)' is not one of time.windows")
                }
                guard let d = DecimalNumber.parse(text), d.mantissa > 0,
                    let size = Money.convert(d, rate: DecimalNumber(mantissa: 1, exponent: 0))
                else {
                    problems.append("markets.yaml: \(key).\(kind): '\(text)' is not a positive decimal amount")
                    continue
                }
                markets.set(size, region: region, windowKind: kind)
            }
        }
        for (region, sizes) in m.regions.sorted(by: { $0.key < $1.key }) { market("regions.\(region)", region, sizes) }
        market("company", nil, m.company)

        guard problems.isEmpty, let calendar, let simStart else { throw ConfigError(problems) }
        var settings = KPISettings(windows: windows, calendar: calendar)
        let lateness = w.time.allowedLateness.millis
        settings.allowedLatenessMillis = lateness
        settings.idleTimeoutMillis = w.time.idleTimeout.millis
        settings.emitIntervalMillis = w.time.emitInterval.millis
        // docs/kpis.md: duplicates count once within at least the allowed lateness.
        settings.dedupeHorizonMillis = max(w.time.dedupeHorizon.millis, lateness)
        settings.revisionHorizonSetting = w.time.revisionHorizon.millis
        settings.reportingCurrency = currency
        settings.targets = targets
        settings.markets = markets
        settings.rules = rules
        settings.locale = w.alerts.locale.locale
        settings.maxRegions = w.processing.maxRegions
        settings.maxRepsPerRegion = w.processing.maxRepsPerRegion
        settings.repIdleMillis = w.processing.repIdleTimeout.millis
        var limits = DecoderLimits()
        limits.maxPayloadBytes = w.processing.maxEventBytes
        limits.maxFuture = w.time.maxFuture.millis
        limits.earliest =
            EpochMillis(Timestamp.daysFromCivil(year: w.time.earliestYear, month: 1, day: 1)) * Timestamp.millisPerDay
        limits.latest =
            EpochMillis(Timestamp.daysFromCivil(year: w.time.latestYear + 1, month: 1, day: 1)) * Timestamp.millisPerDay
        return ResolvedConfig(
            worker: w, targetsFile: t, marketsFile: m, settings: settings,
            decoder: EventDecoder(fx: FXTable(reportingCurrency: currency, rates: rates), limits: limits),
            commitIntervalMillis: w.processing.commitInterval.millis,
            stallTimeoutMillis: w.observability.stallTimeout.millis, simulatorSpeedMillis: w.simulator.speed.millis,
            simulatorStart: simStart, derivedTopics: derivedTopics)
    }

    private static func isValidTopic(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 249 && name != "." && name != ".."
            && name.unicodeScalars.allSatisfy {
                $0.properties.isASCIIHexDigit || ("a"..."z").contains($0)
                    || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "_" || $0 == "-"
            }
    }

    private static func isCurrencyCode(_ code: String) -> Bool {
        code.count == 3 && code.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) }
    }
}
