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
        let changed = scopes.states.indices.filter { scopes.states[$0].windows.contains(where: \.state.dirty) }
        for i in scopes.sorted(changed) {
            let scope = scopes.keys[i]
            // Swapped out, so it changes in place while summaries are made from the shard.
            var windows = WindowTable()
            swap(&windows, &scopes.states[i].windows)
            windows.update(where: { _ in true }) { window, w in
                guard w.dirty else { return }
                w.dirty = false
                w.revision += 1
                effects.append(.summary(makeSummary(scope, window, w, final: false)))
            }
            scopes.states[i].windows = windows
            scopes.states[i].dirty = true
        }
    }

    func makeSummary(_ scope: ScopeKey, _ window: Window, _ w: ScopeState.WindowState, final: Bool) -> Summary {
        let spec = settings.windows[Int(window.kind)]
        var target: Money?
        if case .calendar(let unit) = spec { target = settings.targets.target(for: scope, period: unit) }
        return Summary(
            scope: scope, window: window, windowName: spec.name, final: final, revision: Int(w.revision),
            aggregate: w.aggregate, watermark: watermark, target: target,
            marketSize: settings.markets.size(for: scope, windowKind: spec.name))
    }

    /// Counts for metrics and memory reports.
    /// The longest customer ledger of any scope (entries not folded yet).
    package var longestLedger: Int { scopes.states.map(\.ledger.entryCount).max() ?? 0 }

    package var openWindowCount: Int { scopes.states.reduce(0) { $0 + $1.windows.count } }
    package var scopeCount: Int { scopes.count }
}
