/// Company scope from region summaries (docs/guarantees.md, company windows).
///
/// It keeps the latest aggregate each region reported per window and merges them. A company
/// window is final once every shard's watermark has passed its end, which also means every
/// region's final summary for it has arrived.
package struct CompanyRollup: Sendable {
    package let settings: KPISettings
    var parts: [Window: [String: KPIAggregate]] = [:]
    /// (window, region) parts changed since the last changelog flush.
    var changedParts: Set<PartKey> = []
    var revisions: [Window: Int] = [:]
    var dirty: Set<Window> = []
    /// The earliest boundary a customer change was filed at since the last publication: every
    /// open window starting after it publishes again, its start count changed. One time rather
    /// than each such window put in `dirty` at once: a customer event of a shard behind the
    /// others reaches every window they opened, and inserting them was 1 % of a pre-keyed run's
    /// CPU (scripts/bench.sh, profiled end to end).
    var customersChangedFrom: EpochMillis?
    /// Final company windows still revisable (`KPISettings.revisionHorizonMillis`): a region's
    /// revised final replaces its part and the company final is published again.
    var finals: [Window: FinalWindow] = [:]
    /// Final windows kept, revised or dropped since the last changelog flush.
    var finalsChanged: Set<Window> = []
    /// Every shard ended (a bounded run read every source to its end) and every company window
    /// is final: `shardWatermark` got `.max` from all of them.
    package var ended: Bool { endedAt != nil }
    /// Where the company closed when every shard ended: its last window's end.
    var endedAt: EpochMillis?
    var finalized: EpochMillis = .min
    /// Region summaries that arrived after their company window was final (a shard that only
    /// got data after the others had moved on); they cannot change a published final.
    package private(set) var lateSummaries = 0
    var shardWatermarks: [Int: EpochMillis] = [:]
    /// Shards that reported having nothing at all (see `shardEmpty`).
    var emptyShards: Set<Int> = []
    var shardCoverage: [Int: EpochMillis] = [:]
    var trackers: [WindowSpec.CalendarUnit: PeriodTracker] = [:]
    /// Every region's net customer changes: a company window's customers at its start, which
    /// the region summaries cannot give, since a region without activity in a period sends none.
    var customers = CustomerLedger()
    var cac = CACSpikeDetector()
    /// Past company weeks, months and quarters, for comparisons.
    var history = PeriodHistory()
    var nextDayBoundary: EpochMillis?
    /// The first company watermark; target periods that began before it are not judged.
    var coverageStart: EpochMillis?
    var lastEmitWall: EpochMillis = 0
    let dayKind: UInt8?
    let cacKind: UInt8?
    /// The window kinds this rollup's changelog numbers windows by, and the time zone and
    /// currency its state is in (`StateUnits`): written at its first flush, and again after
    /// each restore, in case the list changed.
    let kinds: WindowKindNames
    let units: StateUnits
    var layoutUnwritten = true

    /// How many shards (internal partitions) report to the rollup.
    package let shardCount: Int

    package init(settings: KPISettings, shards: Int) {
        self.settings = settings
        shardCount = shards
        dayKind = settings.kindIndex(of: .day)
        cacKind = settings.kindIndex(named: settings.rules.cacSpike.window)
        kinds = WindowKindNames(settings)
        units = StateUnits(settings)
    }

    /// The company watermark: the slowest shard's, over every shard of the internal topic. A
    /// shard that has not reported yet (its task is being restored, or its sources have not
    /// announced any progress) holds every company window open: a window closed without it
    /// would miss its regions for good.
    package var watermark: EpochMillis {
        var lowest = EpochMillis.max
        var counted = false
        for shard in 0..<shardCount where !emptyShards.contains(shard) {
            guard let w = shardWatermarks[shard] else { return .min }
            lowest = min(lowest, w)
            counted = true
        }
        // Every shard ended (`.max` from each) is the end; no shard counted is no progress.
        return counted ? lowest : .min
    }

    /// The company watermark as a time: once every shard ended, the last window's end.
    package var progressWatermark: EpochMillis { endedAt ?? watermark }

    /// A shard that never had an event and whose every source is idle without having delivered
    /// anything (without the route stage, a partition number no region hashes to): it holds no
    /// part of the company and stops holding it back, until it reports a watermark.
    package mutating func shardEmpty(_ shard: Int, effects: inout [ShardEffect]) {
        guard shardWatermarks[shard] == nil || shardWatermarks[shard] == .min else { return }
        emptyShards.insert(shard)
        closeReady(effects: &effects)
    }

    /// Takes a region summary. A company window already final takes a region's revised final
    /// while it is revisable, and publishes its own revised final at once (`effects`); it
    /// ignores anything else.
    package mutating func ingest(_ summary: Summary, effects: inout [ShardEffect]) {
        guard summary.scope.kind == .region else { return }
        guard summary.window.end > finalized else {
            if summary.final, finals[summary.window] != nil {
                revise(summary.window, region: summary.scope.region, summary.aggregate, effects: &effects)
            } else {
                lateSummaries += 1
            }
            return
        }
        parts[summary.window, default: [:]][summary.scope.region] = summary.aggregate
        changedParts.insert(PartKey(window: summary.window, region: summary.scope.region))
        dirty.insert(summary.window)
    }

    /// A region's net customer change at a window boundary (`ShardEffect.customers`). It
    /// arrives before the watermark of its shard passes it, as the event did.
    package mutating func customersChanged(at time: EpochMillis, delta: Int32) {
        customers.record(at: time, delta: delta)
        // Final windows kept for revisions need nothing: the change comes from an event past
        // their end, filed at a boundary no earlier than their start (itself a boundary).
        customersChangedFrom = min(customersChangedFrom ?? time, time)
    }

    /// Records a shard's watermark and finalizes every company window all shards have passed.
    ///
    /// `.min` means the shard has no progress yet: nothing is final until it has. `.max` means
    /// the shard has ended (`ShardProcessor.finish`).
    /// `coverage` is the shard's first watermark: company target periods are judged only from
    /// the latest of those on, when every shard had seen the period start.
    package mutating func shardWatermark(
        _ shard: Int, _ watermark: EpochMillis, coverage: EpochMillis? = nil, effects: inout [ShardEffect]
    ) {
        shardWatermarks[shard] = max(shardWatermarks[shard] ?? .min, watermark)
        if watermark != .min { emptyShards.remove(shard) }
        if let coverage, coverageStart == nil { shardCoverage[shard] = coverage }
        closeReady(effects: &effects)
    }

    /// Finalizes every company window all shards have passed, with target checks in between.
    private mutating func closeReady(effects: inout [ShardEffect]) {
        var company = self.watermark
        guard company != .min else { return }
        if company == .max {
            // Every shard ended: close up to the last company window's end, not to the end of time.
            company = max(finalized, parts.keys.map(\.end).max() ?? .min)
            guard company != .min else {
                endedAt = .min
                return
            }
            endedAt = company
        }
        if coverageStart == nil {
            coverageStart = shardCoverage.values.max() ?? company
            // Fixed from now on: no need to keep (or persist) the shards' coverage.
            shardCoverage.removeAll()
        }
        if nextDayBoundary == nil, !settings.targets.companyKeys.isEmpty, let coverageStart {
            // From the first day the shards saw, however late the company watermark got going.
            nextDayBoundary = settings.calendar.interval(.day, containing: coverageStart).end
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
        expireFinals()
        // No company window that can still open starts before this (see `ShardProcessor`).
        customers.fold(before: company - settings.maxWindowSpanMillis)
    }

    /// Publishes changed company windows at most every emit interval.
    package mutating func tick(now: EpochMillis, effects: inout [ShardEffect]) {
        guard now - lastEmitWall >= settings.emitIntervalMillis else { return }
        lastEmitWall = now
        // Windows opened since the change are in `dirty` already; those finalized since took it.
        if let from = customersChangedFrom {
            for window in parts.keys where window.start > from { dirty.insert(window) }
            customersChangedFrom = nil
        }
        for window in dirty.sorted() {
            revisions[window, default: 0] += 1
            effects.append(.summary(summary(window, total: merged(window), final: false)))
        }
        dirty.removeAll()
    }

    private func merged(_ window: Window) -> KPIAggregate {
        var total = KPIAggregate()
        for region in (parts[window] ?? [:]).keys.sorted() { total.merge(parts[window]![region]!) }
        total.activeCustomersStart = customers.net(before: window.start)
        return total
    }

    func summary(_ window: Window, total: KPIAggregate, final: Bool) -> Summary {
        let name = settings.windows[Int(window.kind)].name
        var target: Money?
        if case .calendar(let unit) = settings.windows[Int(window.kind)] {
            target = settings.targets.target(for: .company, period: unit)
        }
        var comparisons: Comparisons?
        if let unit = Comparisons.unit(of: settings.windows[Int(window.kind)], scope: .company) {
            comparisons = Comparisons(unit, window, calendar: settings.calendar) { start in
                // A predecessor still open (its regions' finals not all in yet) counts as it stands.
                if let prior = parts.keys.first(where: { $0.kind == window.kind && $0.start == start }) {
                    return PeriodFigures(merged(prior))
                }
                if let prior = finals.first(where: { $0.key.kind == window.kind && $0.key.start == start }) {
                    return PeriodFigures(prior.value.total)
                }
                return history.figures(kind: window.kind, start: start)
            }
        }
        return Summary(
            scope: .company, window: window, windowName: name, final: final, revision: revisions[window] ?? 1,
            aggregate: total, watermark: progressWatermark, target: target,
            marketSize: settings.markets.size(for: .company, windowKind: name), comparisons: comparisons)
    }

    private mutating func close(_ window: Window, effects: inout [ShardEffect]) {
        revisions[window, default: 0] += 1
        let total = merged(window)
        effects.append(.summary(summary(window, total: total, final: true)))
        keepRevisable(window, total: total)
        if let unit = Comparisons.unit(of: settings.windows[Int(window.kind)], scope: .company) {
            history.record(kind: window.kind, start: window.start, PeriodFigures(total))
            history.forget(kind: window.kind, through: settings.calendar.yearEarlier(unit, than: window.start).start)
        }
        if window.kind == dayKind {
            for key in settings.targets.companyKeys {
                let period = settings.calendar.interval(key.period, containing: window.start)
                var entry = trackers[key.period] ?? PeriodTracker(start: period.start, tracker: TargetTracker())
                if entry.start != period.start { entry = PeriodTracker(start: period.start, tracker: TargetTracker()) }
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
                        windowName: settings.windows[Int(window.kind)].name, newCustomers: Int(total.newCustomers),
                        eventTime: progressWatermark)))
        }
        for region in (parts[window] ?? [:]).keys { changedParts.insert(PartKey(window: window, region: region)) }
        parts[window] = nil
        revisions[window] = nil
        dirty.remove(window)
    }

    private mutating func evaluateTargets(at boundary: EpochMillis, effects: inout [ShardEffect]) {
        for key in settings.targets.companyKeys.sorted(by: { $0.period.rawValue < $1.period.rawValue }) {
            guard let target = settings.targets.target(for: .company, period: key.period) else { continue }
            let period = settings.calendar.interval(key.period, containing: boundary - 1)
            guard period.start >= coverageStart ?? .max else { continue }
            var entry = trackers[key.period] ?? PeriodTracker(start: period.start, tracker: TargetTracker())
            if entry.start != period.start { entry = PeriodTracker(start: period.start, tracker: TargetTracker()) }
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
