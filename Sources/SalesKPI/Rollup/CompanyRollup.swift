/// Company scope from region summaries (SPEC §5, §6 rollup stage).
///
/// It keeps the latest aggregate each region reported per window and merges them. A company
/// window is final once every shard's watermark has passed its end, which also means every
/// region's final summary for it has arrived.
package struct CompanyRollup: Sendable {
    package let settings: KPISettings
    private var parts: [Window: [String: KPIAggregate]] = [:]
    private var names: [Window: String] = [:]
    private var revisions: [Window: Int] = [:]
    private var dirty: Set<Window> = []
    private var finalized: EpochMillis = .min
    private var shardWatermarks: [Int: EpochMillis] = [:]
    private var trackers: [WindowSpec.CalendarUnit: (start: EpochMillis, tracker: TargetTracker)] = [:]
    private var cac = CACSpikeDetector()
    private var nextDayBoundary: EpochMillis?
    /// The first company watermark; target periods that began before it are not judged.
    private var coverageStart: EpochMillis?
    private var lastEmitWall: EpochMillis = 0
    private let dayKind: UInt8?
    private let cacKind: UInt8?

    package init(settings: KPISettings) {
        self.settings = settings
        dayKind = settings.kindIndex(of: .day)
        cacKind = settings.kindIndex(named: settings.rules.cacSpike.window)
    }

    /// The company watermark: the slowest shard's.
    package var watermark: EpochMillis { shardWatermarks.values.min() ?? .min }

    /// Takes a region summary; company windows already final ignore late contributions.
    package mutating func ingest(_ summary: Summary) {
        guard summary.scope.kind == .region, summary.window.end > finalized else { return }
        parts[summary.window, default: [:]][summary.scope.region] = summary.aggregate
        names[summary.window] = summary.windowName
        dirty.insert(summary.window)
    }

    /// Records a shard's watermark and finalizes every company window all shards have passed.
    package mutating func shardWatermark(_ shard: Int, _ watermark: EpochMillis, effects: inout [ShardEffect]) {
        guard watermark != .min else { return }
        shardWatermarks[shard] = max(shardWatermarks[shard] ?? .min, watermark)
        let company = self.watermark
        if coverageStart == nil { coverageStart = company }
        if nextDayBoundary == nil, !settings.targets.companyKeys.isEmpty {
            nextDayBoundary = settings.calendar.interval(.day, containing: company).end
        }
        let closable = parts.keys.filter { $0.end <= company }.sorted()
        var k = 0
        while true {
            let day = nextDayBoundary.flatMap { $0 <= company ? $0 : nil }
            if k < closable.count, closable[k].end <= (day ?? .max) {
                close(closable[k], effects: &effects)
                k += 1
            } else if let day {
                evaluateTargets(at: day, effects: &effects)
                nextDayBoundary = settings.calendar.interval(.day, containing: day).end
            } else {
                break
            }
        }
        finalized = max(finalized, company)
    }

    /// Publishes changed company windows at most every emit interval.
    package mutating func tick(now: EpochMillis, effects: inout [ShardEffect]) {
        guard now - lastEmitWall >= settings.emitIntervalMillis else { return }
        lastEmitWall = now
        for window in dirty.sorted() {
            revisions[window, default: 0] += 1
            effects.append(.summary(summary(window, final: false)))
        }
        dirty.removeAll()
    }

    private func merged(_ window: Window) -> KPIAggregate {
        var total = KPIAggregate()
        for region in (parts[window] ?? [:]).keys.sorted() { total.merge(parts[window]![region]!) }
        return total
    }

    private func summary(_ window: Window, final: Bool) -> Summary {
        let name = names[window] ?? settings.windows[Int(window.kind)].name
        var target: Money?
        if case .calendar(let unit) = settings.windows[Int(window.kind)] {
            target = settings.targets.target(for: .company, period: unit)
        }
        return Summary(
            scope: .company, window: window, windowName: name, final: final, revision: revisions[window] ?? 1,
            aggregate: merged(window), watermark: watermark, target: target,
            marketSize: settings.markets.size(for: .company, windowKind: name))
    }

    private mutating func close(_ window: Window, effects: inout [ShardEffect]) {
        revisions[window, default: 0] += 1
        let total = merged(window)
        effects.append(.summary(summary(window, final: true)))
        if window.kind == dayKind {
            for key in settings.targets.companyKeys {
                let period = settings.calendar.interval(key.period, containing: window.start)
                var entry = trackers[key.period] ?? (period.start, TargetTracker())
                if entry.start != period.start { entry = (period.start, TargetTracker()) }
                entry.tracker.revenueSoFar += total.revenue
                trackers[key.period] = entry
            }
        }
        if window.kind == cacKind,
            let spike = cac.windowClosed(
                cac: KPIFigures(total).cac, newCustomers: Int(total.newCustomers), rule: settings.rules.cacSpike)
        {
            effects.append(
                .alert(
                    AlertFactory(settings: settings).cacSpike(
                        spike, scope: .company, window: window,
                        windowName: names[window] ?? "", newCustomers: Int(total.newCustomers), eventTime: watermark)))
        }
        parts[window] = nil
        names[window] = nil
        revisions[window] = nil
        dirty.remove(window)
    }

    private mutating func evaluateTargets(at boundary: EpochMillis, effects: inout [ShardEffect]) {
        for key in settings.targets.companyKeys.sorted(by: { $0.period.rawValue < $1.period.rawValue }) {
            guard let target = settings.targets.target(for: .company, period: key.period) else { continue }
            let period = settings.calendar.interval(key.period, containing: boundary - 1)
            guard period.start >= coverageStart ?? .max else { continue }
            var entry = trackers[key.period] ?? (period.start, TargetTracker())
            if entry.start != period.start { entry = (period.start, TargetTracker()) }
            let pace = Double(boundary - period.start) / Double(period.end - period.start)
            if let t = entry.tracker.evaluate(target: target, pace: pace, rule: settings.rules.targetSlipping) {
                effects.append(
                    .alert(
                        AlertFactory(settings: settings).target(
                            t, scope: .company, period: key.period,
                            start: period.start, end: period.end, target: target, eventTime: boundary)))
            }
            trackers[key.period] = boundary >= period.end ? nil : entry
        }
    }
}
