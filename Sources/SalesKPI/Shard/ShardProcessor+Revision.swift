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
        for i in scopes.states.indices {
            // Kept in closing order, by end first (`ScopeState.closed`): the expired ones are a
            // prefix. Testing every kept final of every scope each day copied each one out (a
            // retain of its bytes), a fortieth of a backfill's domain work (scripts/bench.sh, shard).
            var expired = 0
            while expired < scopes.states[i].closed.count, scopes.states[i].closed[expired].window.end <= cutoff {
                scopes.states[i].closedChanged.append(scopes.states[i].closed[expired].window)
                expired += 1
            }
            if expired > 0 { scopes.states[i].closed.removeFirst(expired) }
        }
    }

    /// The kept final of scope `i` for `window`, found by bisection in the closing order.
    func closedIndex(_ i: Int, of window: Window) -> Int? {
        let closed = scopes.states[i].closed
        let lo = closed.lowerBound { $0.window < window }
        return lo < closed.count && closed[lo].window == window ? lo : nil
    }

    /// Kept finals across the shard (a metric and memory figure).
    package var revisableWindowCount: Int { scopes.states.reduce(0) { $0 + $1.closed.count } }
}
