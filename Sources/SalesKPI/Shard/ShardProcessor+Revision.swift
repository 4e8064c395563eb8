/// Revised finals: a corrected deal retracted from windows already final (docs/guarantees.md,
/// revised finals).
extension ShardProcessor {
    /// Keeps a window just made final if a correction could still reach it.
    mutating func keepRevisable(_ scope: Int, _ window: Window, _ w: ScopeState.WindowState) {
        guard revisionHorizon > 0, window.end > watermark - revisionHorizon,
            w.aggregate.won != 0 || w.aggregate.lost != 0
        else { return }
        scopes.states[scope].closed.append(ClosedWindow(window: window, revision: w.revision, aggregate: w.aggregate))
        scopes.states[scope].closedChanged.append(window)
    }

    /// Applies a retraction to every kept final window of scope `i` containing `t` and publishes
    /// it again at once, with the event that caused it: a revision waiting for the next emission
    /// would be lost to a restore from a changelog that already holds it. The rules that read a
    /// final follow it: the target tracker of its period, and the comparisons of later windows.
    /// CAC is spend over new customers, which no deal correction changes.
    mutating func reviseClosed(
        _ i: Int, at t: EpochMillis, _ change: (inout KPIAggregate) -> Void, effects: inout [ShardEffect]
    ) {
        guard !scopes.states[i].closed.isEmpty else { return }
        let scope = scopes.keys[i]
        for k in scopes.states[i].closed.indices where scopes.states[i].closed[k].window.contains(t) {
            let window = scopes.states[i].closed[k].window
            let (before, after) = scopes.states[i].closed[k].revise(change)
            scopes.states[i].closedChanged.append(window)
            remember(scope, window, after)
            var state = ScopeState.WindowState()
            state.aggregate = after
            state.revision = scopes.states[i].closed[k].revision
            let open = scopes.states[i].windows  // a local: see `closeWindows`
            var summary = makeSummary(scope, window, state, final: true, open: open)
            summary.revised = true
            effects.append(.summary(summary))
            guard window.kind == dayKind, targetScopes.contains(scope) else { continue }
            for unit in settings.targets.periods where settings.targets.target(for: scope, period: unit) != nil {
                let period = settings.calendar.interval(unit, containing: window.start)
                let tracker = TrackerKey(scope: scope, period: unit, start: period.start)
                // A period already judged to its end has no tracker left to correct.
                guard trackers[tracker] != nil else { continue }
                trackers[tracker]!.revenueSoFar.minorUnits += after.revenue.minorUnits - before.revenue.minorUnits
                rulesDirty = true
            }
        }
    }

    /// Drops kept finals the horizon has passed.
    mutating func expireClosed() {
        let cutoff = watermark - revisionHorizon
        for i in scopes.states.indices where scopes.states[i].closed.contains(where: { $0.window.end <= cutoff }) {
            for c in scopes.states[i].closed where c.window.end <= cutoff {
                scopes.states[i].closedChanged.append(c.window)
            }
            scopes.states[i].closed.removeAll { $0.window.end <= cutoff }
        }
    }

    /// Kept finals across the shard (a metric and memory figure).
    package var revisableWindowCount: Int { scopes.states.reduce(0) { $0 + $1.closed.count } }
}
