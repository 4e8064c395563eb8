/// Event time, watermarks and closing windows.
extension ShardProcessor {
    /// The event time every source of this shard has reached (the minimum of their progress):
    /// the watermark follows it at the allowed lateness, which only has to cover disorder within
    /// one source.
    package mutating func advanceProgress(to t: EpochMillis, effects: inout [ShardEffect]) {
        guard t != .min else { return }
        advanceWatermark(to: t - settings.allowedLatenessMillis, effects: &effects)
    }

    /// The end of every stream (a bounded run read each source to its recorded end): closes
    /// every open window, evaluating targets at each business day on the way, as far as the last
    /// window's end and no further (the watermark never jumps to the end of time).
    package mutating func finish(effects: inout [ShardEffect]) {
        var last = EpochMillis.min
        for state in scopes.states { for window in state.windows.keys { last = max(last, window.end) } }
        if last > watermark { advanceWatermark(to: last, effects: &effects) }
        finished = true
    }

    /// How far event time has got: the watermark plus the lateness (`.min` before any progress).
    package var progress: EpochMillis {
        watermark == .min ? .min : watermark + settings.allowedLatenessMillis
    }

    /// Moves the watermark forward, closing every window it passes and evaluating target pace at
    /// each business-day boundary on the way, in event-time order.
    package mutating func advanceWatermark(to newWatermark: EpochMillis, effects: inout [ShardEffect]) {
        guard newWatermark > watermark else { return }
        let old = watermark
        watermark = newWatermark
        // The first watermark can come long after the first events (sources announce their
        // progress late, or a backlog is read before empty partitions turn idle): coverage
        // starts at the earliest event, which `apply` noted.
        let from = old == .min ? min(coverageStart ?? newWatermark, newWatermark) : old
        if coverageStart == nil || old == .min { coverageStart = from }
        // Only windows that had activity exist, so however far the watermark jumps it closes
        // at most the windows events opened: a period without activity gets no summary
        // (docs/guarantees.md, bounded output).
        if nextDayBoundary == nil, !targetScopes.isEmpty {
            nextDayBoundary = settings.calendar.interval(.day, containing: from).end
        }
        while true {
            let end = closing.nextEnd.map { $0 <= newWatermark ? $0 : nil } ?? nil
            let day = nextDayBoundary.map { $0 <= newWatermark ? $0 : nil } ?? nil
            if let end, end <= (day ?? .max) {
                closeWindows(effects: &effects)
            } else if let day {
                evaluateTargets(at: day, effects: &effects)
                nextDayBoundary = settings.calendar.interval(.day, containing: day).end
            } else {
                break
            }
        }
        if newWatermark >= nextPrune { prune() }
    }

    /// The earliest start of any window, of any kind, after `t` (also the earliest end: windows
    /// of one kind end where the next begins).
    package func firstWindowStart(after t: EpochMillis) -> EpochMillis {
        var earliest = EpochMillis.max
        for spec in settings.windows {
            switch spec {
            case .fixed(let size): earliest = min(earliest, Timestamp.floorDiv(t, size) * size + size)
            case .hopping(_, let hop): earliest = min(earliest, Timestamp.floorDiv(t, hop) * hop + hop)
            case .calendar(let unit): earliest = min(earliest, settings.calendar.interval(unit, containing: t).end)
            }
        }
        return earliest
    }

    private mutating func closeWindows(effects: inout [ShardEffect]) {
        guard let end = closing.popEarliest() else { return }
        var closing: [Int] = []
        for i in scopes.states.indices
        where scopes.states[i].windows.contains(where: { window, _ in window.end <= end }) {
            closing.append(i)
        }
        // In key order (then window order), so a restored shard emits exactly what an
        // uninterrupted one does.
        var closed: [(scope: Int, window: Window)] = []
        for i in scopes.sorted(closing) {
            scopes.states[i].windows.forEach { window, _ in if window.end <= end { closed.append((i, window)) } }
        }
        for (i, window) in closed {
            let scope = scopes.keys[i]
            guard var w = scopes.states[i].windows.removeValue(forKey: window) else { continue }
            scopes.states[i].dirty = true
            w.revision += 1
            // A local, not `scopes.states[i].windows` in the call: reading it inside the call
            // made the compiler copy the whole shard for every summary.
            let open = scopes.states[i].windows
            let summary = makeSummary(scope, window, w, final: true, open: open)
            effects.append(.summary(summary))
            remember(scope, window, w.aggregate)
            keepRevisable(i, window, w)
            if window.kind == dayKind, targetScopes.contains(scope) {
                for unit in settings.targets.periods where settings.targets.target(for: scope, period: unit) != nil {
                    let period = settings.calendar.interval(unit, containing: window.start)
                    trackers[TrackerKey(scope: scope, period: unit, start: period.start), default: TargetTracker()]
                        .revenueSoFar += w.aggregate.revenue
                    rulesDirty = true
                }
            }
            if window.kind == cacKind, scope.kind == .region {
                rulesDirty = true
                let figures = KPIFigures(w.aggregate)
                if let spike = cacDetectors[scope, default: CACSpikeDetector()].windowClosed(
                    cac: figures.cac, newCustomers: Int(w.aggregate.newCustomers), rule: settings.rules.cacSpike)
                {
                    effects.append(
                        .alert(
                            AlertFactory(settings: settings).cacSpike(
                                spike, scope: scope, window: window,
                                windowName: assigner.name(of: window.kind), newCustomers: Int(w.aggregate.newCustomers),
                                eventTime: watermark)))
                }
            }
        }
    }

    /// Evaluates every target of this shard at a business-day boundary.
    private mutating func evaluateTargets(at boundary: EpochMillis, effects: inout [ShardEffect]) {
        for scope in targetScopes.sorted() {
            for unit in WindowSpec.CalendarUnit.allCases {
                guard let target = settings.targets.target(for: scope, period: unit) else { continue }
                let period = settings.calendar.interval(unit, containing: boundary - 1)
                guard period.start >= coverageStart ?? .max else { continue }
                let key = TrackerKey(scope: scope, period: unit, start: period.start)
                let pace = Double(boundary - period.start) / Double(period.end - period.start)
                var tracker = trackers[key] ?? TargetTracker()
                if let transition = tracker.evaluate(target: target, pace: pace, rule: settings.rules.targetSlipping) {
                    effects.append(
                        .alert(
                            AlertFactory(settings: settings).target(
                                transition, scope: scope,
                                period: unit, start: period.start, end: period.end, target: target, eventTime: boundary)
                        ))
                }
                if boundary >= period.end { trackers[key] = nil } else { trackers[key] = tracker }
                rulesDirty = true
            }
        }
    }

    private mutating func prune() {
        nextPrune = watermark + Timestamp.millisPerDay
        dedupe.prune(olderThan: watermark - settings.dedupeHorizonMillis)
        // An outcome is remembered while a window counting it can change: open, or final within
        // the revision horizon.
        let horizon = watermark - max(maxWindowSpan, revisionHorizon)
        wonDeals.prune(olderThan: horizon)
        lostDeals.prune(olderThan: horizon)
        expireClosed()
        evictIdleReps()
    }

    /// Drops rep scopes with no event for `repIdleMillis`, no window open or revisable and no
    /// target: reps come and go over the years, and each would otherwise count against
    /// `maxRepsPerRegion` and stay in memory and the changelog for good. A rep that comes back
    /// starts again with no customers of its own (docs/guarantees.md, bad input).
    private mutating func evictIdleReps() {
        let cutoff = watermark - settings.repIdleMillis
        var doomed = Set<Int>()
        for i in scopes.states.indices where scopes.keys[i].kind == .rep {
            let state = scopes.states[i]
            if state.lastActivity < cutoff, state.windows.isEmpty, state.closed.isEmpty,
                !targetScopes.contains(scopes.keys[i])
            {
                doomed.insert(i)
            }
        }
        for i in doomed.sorted() {
            for window in scopes.states[i].closedChanged {
                closedTombstones.append(ClosedKey(scope: scopes.keys[i], window: window))
            }
        }
        let removed = scopes.remove(doomed)
        evictedScopes += removed
        evictedReps += removed.count
    }
}
