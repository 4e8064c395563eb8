/// The state of one shard (one partition of region-keyed events) and its transitions.
///
/// A value type with no I/O and no clock: the runtime hands it events and the wall-clock time,
/// and publishes the effects it returns. One task owns each instance.
package struct ShardProcessor: Sendable {
    package let settings: KPISettings
    var assigner: WindowAssigner
    package internal(set) var watermark: EpochMillis = .min
    package internal(set) var maxEventTime: EpochMillis = .min
    var scopes: [ScopeKey: ScopeState] = [:]
    var knownRegions: Set<String> = []
    /// Scopes of this shard that have a target, evaluated at each business-day close.
    var targetScopes: Set<ScopeKey> = []
    var trackers: [TrackerKey: TargetTracker] = [:]
    var cacDetectors: [ScopeKey: CACSpikeDetector] = [:]
    var closing = CloseSchedule()
    var nextDayBoundary: EpochMillis?
    /// The first watermark: target periods that began before it are not judged, since this
    /// shard never saw their start.
    package internal(set) var coverageStart: EpochMillis?
    var dedupe = DedupeWindow()
    var wonDeals = DealBook()
    var lostDeals = DealBook()
    var nextPrune: EpochMillis = .min
    /// The watermark at which the next window of any kind begins (see `advanceWatermark`).
    var nextWindowStart: EpochMillis = .min
    /// Target trackers or CAC detectors changed since the last changelog flush.
    var rulesDirty = false
    var lastInputWall: EpochMillis?
    var lastTickWall: EpochMillis?
    var lastEmitWall: EpochMillis = 0
    let dayKind: UInt8?
    let cacKind: UInt8?
    private var scratch: [Window] = []

    struct TrackerKey: Hashable, Sendable, Codable {
        var scope: ScopeKey
        var period: WindowSpec.CalendarUnit
        var start: EpochMillis
    }

    package init(settings: KPISettings) {
        self.settings = settings
        assigner = WindowAssigner(specs: settings.windows, calendar: settings.calendar)
        dayKind = settings.kindIndex(of: .day)
        cacKind = settings.kindIndex(named: settings.rules.cacSpike.window)
    }

    /// Applies one decoded event; effects (final summaries, alerts) are appended to `effects`.
    package mutating func apply(_ event: SalesEvent, effects: inout [ShardEffect]) -> Disposition {
        if event.occurredAt < watermark { return .late }
        guard dedupe.insert(event.eventId, at: event.occurredAt) else { return .duplicate }
        learn(region: event.region, rep: event.repId)
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
            switch decision {
            case .count:
                applyOutcome(outcome, won: won, region: event.region, sign: 1)
            case .replace(let earlier):
                applyOutcome(earlier, won: won, region: event.region, sign: -1)
                applyOutcome(outcome, won: won, region: event.region, sign: 1)
            case .superseded:
                disposition = .superseded
            }
        case .customerAcquired, .customerChurned:
            let delta: Int32 = event.type == .customerAcquired ? 1 : -1
            applyCustomer(delta, at: event.occurredAt, scope: .region(event.region))
            if let rep = event.repId { applyCustomer(delta, at: event.occurredAt, scope: .rep(rep, in: event.region)) }
        case .spendRecorded:
            for scope in scopes(of: event) {
                update(scope, at: event.occurredAt) { $0.spend += event.amount }
            }
        }
        advanceEventTime(to: event.occurredAt, effects: &effects)
        return disposition
    }

    private func scopes(of event: SalesEvent) -> [ScopeKey] {
        guard let rep = event.repId else { return [.region(event.region)] }
        return [.rep(rep, in: event.region), .region(event.region)]
    }

    private mutating func learn(region: String, rep: String?) {
        if knownRegions.insert(region).inserted {
            noteTargets(for: .region(region))
            if watermark != .min { ensureRegionWindows(region, from: watermark, to: maxEventTime) }
        }
        if let rep, scopes[.rep(rep, in: region)] == nil { noteTargets(for: .rep(rep, in: region)) }
    }

    private mutating func noteTargets(for scope: ScopeKey) {
        for unit in settings.targets.periods where settings.targets.target(for: scope, period: unit) != nil {
            targetScopes.insert(scope)
        }
    }

    private mutating func applyOutcome(_ o: DealBook.Outcome, won: Bool, region: String, sign: Int32) {
        for scope in [ScopeKey.rep(o.rep, in: region), .region(region)] {
            let apply: (inout KPIAggregate) -> Void = { a in
                if won { a.applyWon(amount: o.amount, cycleMillis: o.cycleMillis, sign: sign) } else { a.lost += sign }
            }
            if sign > 0 {
                update(scope, at: o.occurredAt, apply)
            } else {
                // A retraction only reaches windows still open: a final summary is never revised.
                updateExisting(scope, at: o.occurredAt, apply)
            }
        }
    }

    private mutating func applyCustomer(_ delta: Int32, at t: EpochMillis, scope: ScopeKey) {
        update(scope, at: t) { a in
            if delta > 0 { a.newCustomers += 1 } else { a.churnedCustomers += 1 }
        }
        // Taken out of the dictionary so the ledger is mutated in place, not copied.
        var state = scopes.removeValue(forKey: scope)!
        // Windows that start after this (out-of-order) event had it missing from their start count.
        state.dirty = true
        state.windows.update(where: { $0.start > t }) { _, w in
            w.aggregate.activeCustomersStart += delta
            w.dirty = true
        }
        state.ledger.record(at: t, delta: delta)
        if watermark != .min { state.ledger.fold(before: watermark - settings.maxWindowSpanMillis) }
        scopes[scope] = state
    }

    /// Applies `change` to every window of `scope` containing `t`, creating them as needed.
    private mutating func update(_ scope: ScopeKey, at t: EpochMillis, _ change: (inout KPIAggregate) -> Void) {
        scratch.removeAll(keepingCapacity: true)
        assigner.windows(containing: t, into: &scratch)
        var state = scopes.removeValue(forKey: scope) ?? ScopeState()
        state.dirty = true
        for window in scratch {
            var w = state.windows[window] ?? openWindow(window, scope: scope, ledger: state.ledger)
            change(&w.aggregate)
            w.dirty = true
            state.windows[window] = w
        }
        scopes[scope] = state
    }

    private mutating func updateExisting(_ scope: ScopeKey, at t: EpochMillis, _ change: (inout KPIAggregate) -> Void) {
        scratch.removeAll(keepingCapacity: true)
        assigner.windows(containing: t, into: &scratch)
        guard var state = scopes.removeValue(forKey: scope) else { return }
        state.dirty = true
        for window in scratch {
            guard var w = state.windows[window] else { continue }
            change(&w.aggregate)
            w.dirty = true
            state.windows[window] = w
        }
        scopes[scope] = state
    }

    mutating func openWindow(_ window: Window, scope: ScopeKey, ledger: CustomerLedger) -> ScopeState.WindowState {
        closing.schedule(window.end)
        var w = ScopeState.WindowState()
        w.aggregate.activeCustomersStart = ledger.net(before: window.start)
        return w
    }
}
