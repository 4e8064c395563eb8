/// The state of one shard (one partition of region-keyed events) and its transitions.
///
/// A value type with no I/O and no clock: the runtime hands it events and the wall-clock time,
/// and publishes the effects it returns. One task owns each instance.
package struct ShardProcessor: Sendable {
    package let settings: KPISettings
    var assigner: WindowAssigner
    package internal(set) var watermark: EpochMillis = .min
    package internal(set) var maxEventTime: EpochMillis = .min
    var scopes = ScopeTable()
    var knownRegions: Set<String> = []
    /// Scopes of this shard that have a target, evaluated at each business-day close.
    var targetScopes: Set<ScopeKey> = []
    var trackers: [TrackerKey: TargetTracker] = [:]
    var cacDetectors: [ScopeKey: CACSpikeDetector] = [:]
    /// Past week, month and quarter figures of each region, for comparisons.
    var histories: [ScopeKey: PeriodHistory] = [:]
    /// Regions whose history changed since the last changelog flush.
    var historiesChanged: Set<ScopeKey> = []
    var closing = CloseSchedule()
    var nextDayBoundary: EpochMillis?
    /// The first watermark: target periods that began before it are not judged, since this
    /// shard never saw their start.
    package internal(set) var coverageStart: EpochMillis?
    var dedupe = DedupeWindow()
    var wonDeals = DealBook()
    var lostDeals = DealBook()
    var nextPrune: EpochMillis = .min
    /// Rep scopes dropped as idle since the last changelog flush, for their tombstones.
    var evictedScopes: [ScopeKey] = []
    /// Rep scopes dropped as idle by this instance (a metric).
    package internal(set) var evictedReps = 0
    /// Target trackers or CAC detectors changed since the last changelog flush.
    var rulesDirty = false
    var lastTickWall: EpochMillis?
    var lastEmitWall: EpochMillis = 0
    let dayKind: UInt8?
    let cacKind: UInt8?
    /// `settings.maxWindowSpanMillis`, which is computed from the window specs on every read.
    let maxWindowSpan: EpochMillis
    /// `settings.revisionHorizonMillis`: how long a final window stays revisable after its end.
    let revisionHorizon: EpochMillis
    /// Kept finals' keys to delete at the next changelog flush, before the kept finals changed
    /// since are written: those of rep scopes dropped as idle (a dropped scope keeps no final),
    /// and after a restore that renumbered window kinds, every restored one's old key.
    var closedTombstones: [ClosedKey] = []
    /// Every stream ended (`finish`): nothing is open.
    package internal(set) var finished = false
    /// The window kinds this shard's changelog numbers windows by, and the time zone and
    /// currency its state is in (`StateUnits`): written at its first flush, and again after
    /// each restore, in case the list changed.
    let kinds: WindowKindNames
    let units: StateUnits
    var layoutUnwritten = true
    private var scratch: [Window] = []

    struct TrackerKey: Hashable, Sendable {
        var scope: ScopeKey
        var period: WindowSpec.CalendarUnit
        var start: EpochMillis
    }

    package init(settings: KPISettings) {
        self.settings = settings
        assigner = WindowAssigner(specs: settings.windows, calendar: settings.calendar)
        dayKind = settings.kindIndex(of: .day)
        cacKind = settings.kindIndex(named: settings.rules.cacSpike.window)
        maxWindowSpan = settings.maxWindowSpanMillis
        revisionHorizon = settings.revisionHorizonMillis
        kinds = WindowKindNames(settings)
        units = StateUnits(settings)
    }

    /// Applies one decoded event; effects (final summaries, alerts) are appended to `effects`.
    /// An event older than the watermark is `late`; the watermark itself only moves through
    /// `advanceProgress`.
    package mutating func apply(_ event: SalesEvent, effects: inout [ShardEffect]) -> Disposition {
        // A re-sent event already counted is a duplicate even behind the watermark (a stage
        // rebuilt after a failed transaction re-sends what it held): not a late event to report.
        if event.occurredAt < watermark { return dedupe.contains(event.eventId) ? .duplicate : .late }
        // Scopes and sums are checked before the event id is remembered: an event refused here
        // was never counted, so sending it again is refused again, not dropped as a duplicate.
        guard let (region, rep) = learn(region: event.region, rep: event.repId) else {
            return refuse(event, Rejection(.scopeLimit, scopeLimitDetail(event)))
        }
        let increment = Self.increment(of: event)
        if !admits(increment, scope: region, at: event.occurredAt)
            || !(rep.map { admits(increment, scope: $0, at: event.occurredAt) } ?? true)
        {
            return refuse(
                event,
                Rejection(
                    .amountOverflow,
                    "a window of \(event.region) would pass \(SumHeadroom.maxMoney) minor units or \(SumHeadroom.maxCount) events"
                ))
        }
        guard dedupe.insert(event.eventId, at: event.occurredAt) else { return .duplicate }
        scopes.states[region].headroom.record(increment)
        if let rep { scopes.states[rep].headroom.record(increment) }
        var disposition = Disposition.counted
        switch event.type {
        case .dealCreated, .dealStageChanged:
            disposition = .timeOnly
        case .dealWon, .dealLost:
            let won = event.type == .dealWon
            let key = DealBook.Key(region: event.region, dealId: event.dealId ?? "")
            let outcome = DealBook.Outcome(
                occurredAt: event.occurredAt, eventId: event.eventId, rep: event.repId ?? "", amount: event.amount,
                cycleMillis: event.occurredAt - (event.createdAt ?? event.occurredAt))
            let decision = won ? wonDeals.record(key, outcome) : lostDeals.record(key, outcome)
            // The outcome's rep is the event's, interned above (or "" for an event without one).
            let outcomeRep = rep ?? scopes.intern(.rep(outcome.rep, in: event.region)).index
            switch decision {
            case .count:
                applyOutcome(outcome, won: won, scope: outcomeRep, sign: 1, effects: &effects)
                applyOutcome(outcome, won: won, scope: region, sign: 1, effects: &effects)
            case .replace(let earlier):
                // A retraction only reaches scopes that exist (see `updateExisting`).
                if let earlierRep = scopes.find(.rep(earlier.rep, in: event.region)) {
                    applyOutcome(earlier, won: won, scope: earlierRep, sign: -1, effects: &effects)
                }
                applyOutcome(earlier, won: won, scope: region, sign: -1, effects: &effects)
                applyOutcome(outcome, won: won, scope: outcomeRep, sign: 1, effects: &effects)
                applyOutcome(outcome, won: won, scope: region, sign: 1, effects: &effects)
            case .superseded:
                disposition = .superseded
            }
        case .customerAcquired, .customerChurned:
            let delta: Int32 = event.type == .customerAcquired ? 1 : -1
            // Window starts only ask for customers before them: changes between two possible
            // starts are kept as one, so a busy scope's ledger (and its changelog record) holds a
            // few entries per day instead of one per customer event.
            let boundary = assigner.latestBoundary(atOrBefore: event.occurredAt)
            applyCustomer(delta, at: event.occurredAt, boundary: boundary, scope: region)
            if let rep { applyCustomer(delta, at: event.occurredAt, boundary: boundary, scope: rep) }
            effects.append(.customers(region: event.region, at: boundary, delta: delta))
        case .spendRecorded:
            if let rep { update(rep, at: event.occurredAt) { $0.spend += event.amount } }
            update(region, at: event.occurredAt) { $0.spend += event.amount }
        }
        // Event time is not moved here: the runtime advances it from every source's progress
        // (`advanceProgress`), so the order events of different sources arrive in cannot make
        // any of them late (docs/guarantees.md, event time).
        maxEventTime = max(maxEventTime, event.occurredAt)
        // Before the first watermark nothing is late: the shard covers everything from its
        // earliest event on, however late its sources let the watermark start.
        if watermark == .min {
            coverageStart = min(coverageStart ?? .max, event.occurredAt - settings.allowedLatenessMillis)
        }
        return disposition
    }

    /// Interns the event's region and rep scopes; notes targets and opens a new region's windows.
    /// nil, with nothing interned, when a new scope would pass `maxRegions` or `maxRepsPerRegion`.
    private mutating func learn(region: String, rep: String?) -> (region: Int, rep: Int?)? {
        let known = scopes.find(region: region, rep: rep)
        if known.region == nil, scopes.regionCount >= settings.maxRegions { return nil }
        if rep != nil, known.rep == nil, scopes.repCount(in: region) >= settings.maxRepsPerRegion { return nil }
        let regionIndex: Int
        if let knownRegion = known.region {
            regionIndex = knownRegion
        } else {
            let regionKey = ScopeKey.region(region)
            regionIndex = scopes.intern(regionKey).index
            // A restored region scope is known already: both are restored together.
            if knownRegions.insert(region).inserted { noteTargets(for: regionKey) }
        }
        guard let rep else { return (regionIndex, nil) }
        if let knownRep = known.rep { return (regionIndex, knownRep) }
        let repKey = ScopeKey.rep(rep, in: region)
        let repIndex = scopes.intern(repKey).index
        noteTargets(for: repKey)
        return (regionIndex, repIndex)
    }

    private func scopeLimitDetail(_ event: SalesEvent) -> String {
        if scopes.find(.region(event.region)) == nil {
            return
                "region \(event.region) would be region \(scopes.regionCount + 1) of this shard; processing.max_regions is \(settings.maxRegions)"
        }
        return
            "rep \(event.repId ?? "") would be rep \(scopes.repCount(in: event.region) + 1) of region \(event.region); processing.max_reps_per_region is \(settings.maxRepsPerRegion)"
    }

    /// A refused event that was counted before is a duplicate, not a rejection.
    private func refuse(_ event: SalesEvent, _ rejection: Rejection) -> Disposition {
        dedupe.contains(event.eventId) ? .duplicate : .rejected(rejection)
    }

    /// What the event adds to the sums of the windows it reaches.
    private static func increment(of event: SalesEvent) -> SumHeadroom.Increment {
        switch event.type {
        case .dealWon:
            SumHeadroom.Increment(
                money: event.amount.minorUnits, count: 1,
                cycleMillis: event.occurredAt - (event.createdAt ?? event.occurredAt))
        case .dealLost, .customerAcquired, .customerChurned: SumHeadroom.Increment(count: 1)
        case .spendRecorded: SumHeadroom.Increment(money: event.amount.minorUnits)
        case .dealCreated, .dealStageChanged: SumHeadroom.Increment()
        }
    }

    /// Whether `add` fits in every open window of scope `i` that contains `t`: at once when the
    /// scope's headroom shows it, else window by window.
    private func admits(_ add: SumHeadroom.Increment, scope i: Int, at t: EpochMillis) -> Bool {
        if scopes.states[i].headroom.clearlyAdmits(add) { return true }
        return !scopes.states[i].windows.contains { window, state in
            window.contains(t) && !SumHeadroom.fits(add, in: state.aggregate)
        }
    }

    private mutating func noteTargets(for scope: ScopeKey) {
        for unit in settings.targets.periods where settings.targets.target(for: scope, period: unit) != nil {
            targetScopes.insert(scope)
        }
    }

    private mutating func applyOutcome(
        _ o: DealBook.Outcome, won: Bool, scope: Int, sign: Int32, effects: inout [ShardEffect]
    ) {
        let slot = won ? KPIAggregate.cycleSlot(o.cycleMillis) : QuantileSketch.Slot(0)
        let apply: (inout KPIAggregate) -> Void = { a in
            if won {
                a.applyWon(amount: o.amount, cycleMillis: o.cycleMillis, slot: slot, sign: sign)
            } else {
                a.lost += sign
            }
        }
        if sign > 0 {
            update(scope, at: o.occurredAt, apply)
        } else {
            // A retraction reaches the windows still open and the finals still revisable.
            updateExisting(scope, at: o.occurredAt, apply)
            reviseClosed(scope, at: o.occurredAt, apply, effects: &effects)
        }
    }

    /// `boundary` is the latest window start at or before `t`, where the ledger files the change.
    private mutating func applyCustomer(_ delta: Int32, at t: EpochMillis, boundary: EpochMillis, scope i: Int) {
        update(i, at: t) { a in
            if delta > 0 { a.newCustomers += 1 } else { a.churnedCustomers += 1 }
        }
        // Windows that start after this (out-of-order) event had it missing from their start count.
        scopes.states[i].windows.update(where: { $0.start > t }) { _, w in
            w.aggregate.activeCustomersStart += delta
            w.dirty = true
        }
        scopes.states[i].ledger.record(at: boundary, delta: delta)
        if watermark != .min { scopes.states[i].ledger.fold(before: watermark - maxWindowSpan) }
    }

    /// Applies `change` to every window of scope `i` containing `t`, creating them as needed.
    private mutating func update(_ i: Int, at t: EpochMillis, _ change: (inout KPIAggregate) -> Void) {
        scratch.removeAll(keepingCapacity: true)
        assigner.windows(containing: t, into: &scratch)
        scopes.states[i].dirty = true
        scopes.states[i].lastActivity = max(scopes.states[i].lastActivity, t)
        for window in scratch {
            var k = scopes.states[i].windows.position(of: window)
            if k == nil {
                if scopes.states[i].windows.isEmpty { scopes.states[i].windows.reserve(assigner.specs.count) }
                let fresh = openWindow(window, ledger: scopes.states[i].ledger)
                k = scopes.states[i].windows.insert(window, fresh)
            }
            guard let k else { continue }
            scopes.states[i].windows.modify(at: k) { w in
                change(&w.aggregate)
                w.dirty = true
            }
        }
    }

    private mutating func updateExisting(_ i: Int, at t: EpochMillis, _ change: (inout KPIAggregate) -> Void) {
        scratch.removeAll(keepingCapacity: true)
        assigner.windows(containing: t, into: &scratch)
        scopes.states[i].dirty = true
        for window in scratch {
            guard let k = scopes.states[i].windows.position(of: window) else { continue }
            scopes.states[i].windows.modify(at: k) { w in
                change(&w.aggregate)
                w.dirty = true
            }
        }
    }

    mutating func openWindow(_ window: Window, ledger: CustomerLedger) -> ScopeState.WindowState {
        closing.schedule(window.end)
        var w = ScopeState.WindowState()
        w.aggregate.activeCustomersStart = ledger.net(before: window.start)
        return w
    }
}
