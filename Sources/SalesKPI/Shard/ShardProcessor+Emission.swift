/// Provisional summaries and the wall-clock side of a shard: emit pacing and idle watermarks.
extension ShardProcessor {
    /// Called regularly with the wall clock: publishes provisional summaries of changed windows
    /// at most every emit interval, and, while every source of the shard is idle (`idleSince`:
    /// the wall-clock time they all became so), lets event time advance at the wall clock's rate
    /// from the furthest point any source reached, never past the wall clock itself.
    package mutating func tick(now: EpochMillis, idleSince: EpochMillis? = nil, effects: inout [ShardEffect]) {
        defer { lastTickWall = now }
        if let idleSince, let lastTick = lastTickWall, now > lastTick {
            let from = max(lastTick, idleSince)
            let base = max(progress, maxEventTime)
            if base != .min, now > from, base < now {
                advanceProgress(to: min(base + (now - from), now), effects: &effects)
            }
        }
        guard now - lastEmitWall >= settings.emitIntervalMillis else { return }
        lastEmitWall = now
        emitProvisional(effects: &effects)
    }

    /// Publishes every changed open window now, regardless of the emit interval.
    package mutating func emitProvisional(effects: inout [ShardEffect]) {
        let changed = scopes.states.indices.filter { scopes.states[$0].windows.contains { _, state in state.dirty } }
        for i in scopes.sorted(changed) {
            let scope = scopes.keys[i]
            // Swapped out, so it changes in place while summaries are made from the shard.
            var windows = WindowTable()
            swap(&windows, &scopes.states[i].windows)
            // Comparisons read a predecessor that may still be open: a copy for regions, whose
            // figures the loop does not change; reps compare nothing and copy nothing.
            let open = scope.kind == .rep ? WindowTable() : windows
            windows.update(where: { _ in true }) { window, w in
                guard w.dirty else { return }
                w.dirty = false
                w.revision += 1
                effects.append(.summary(makeSummary(scope, window, w, final: false, open: open)))
            }
            scopes.states[i].windows = windows
            scopes.states[i].dirty = true
        }
    }

    /// `open` is the scope's table of open windows: a window's predecessor may still be open
    /// (within the lateness) when a provisional summary is made.
    func makeSummary(
        _ scope: ScopeKey, _ window: Window, _ w: ScopeState.WindowState, final: Bool, open: WindowTable
    ) -> Summary {
        let spec = settings.windows[Int(window.kind)]
        var target: Money?
        if case .calendar(let unit) = spec { target = settings.targets.target(for: scope, period: unit) }
        var comparisons: Comparisons?
        if let unit = Comparisons.unit(of: spec, scope: scope) {
            let history = histories[scope] ?? PeriodHistory()
            comparisons = Comparisons(unit, window, calendar: settings.calendar) { start in
                if let prior = open.first(where: { $0.kind == window.kind && $0.start == start }) {
                    return PeriodFigures(prior.aggregate)
                }
                return history.figures(kind: window.kind, start: start)
            }
        }
        return Summary(
            scope: scope, window: window, windowName: spec.name, final: final, revision: Int(w.revision),
            aggregate: w.aggregate, watermark: watermark, target: target,
            marketSize: settings.markets.size(for: scope, windowKind: spec.name), comparisons: comparisons)
    }

    /// Keeps a closed region window's figures for the comparisons of later windows, and forgets
    /// what no window still to close compares with.
    mutating func remember(_ scope: ScopeKey, _ window: Window, _ aggregate: KPIAggregate) {
        guard let unit = Comparisons.unit(of: settings.windows[Int(window.kind)], scope: scope)
        else { return }
        var history = histories[scope] ?? PeriodHistory()
        history.record(kind: window.kind, start: window.start, PeriodFigures(aggregate))
        history.forget(kind: window.kind, through: settings.calendar.yearEarlier(unit, than: window.start).start)
        histories[scope] = history
        historiesChanged.insert(scope)
    }

    /// Counts for metrics and memory reports.
    /// The longest customer ledger of any scope (entries not folded yet).
    package var longestLedger: Int { scopes.states.map(\.ledger.entryCount).max() ?? 0 }

    package var openWindowCount: Int { scopes.states.reduce(0) { $0 + $1.windows.count } }
    package var scopeCount: Int { scopes.count }
}
