/// Revised company finals: a region's revised final replaces its part of a company window
/// already final (docs/guarantees.md, revised finals).
extension CompanyRollup {
    /// A final company window kept for revisions: its region parts and what is not in them.
    struct FinalWindow: Codable, Sendable {
        var parts: [String: KPIAggregate]
        /// Customers at the window start, from the ledger at close (which folds its past later).
        var activeCustomersStart: Int32
        var revision: Int

        var total: KPIAggregate {
            var total = KPIAggregate()
            for region in parts.keys.sorted() { total.merge(parts[region]!) }
            total.activeCustomersStart = activeCustomersStart
            return total
        }
    }

    /// Keeps a window just made final if a region's correction could still reach it.
    mutating func keepRevisable(_ window: Window, total: KPIAggregate) {
        let horizon = settings.revisionHorizonMillis
        guard horizon > 0, total.won != 0 || total.lost != 0, let regions = parts[window] else { return }
        finals[window] = FinalWindow(
            parts: regions, activeCustomersStart: total.activeCustomersStart, revision: revisions[window] ?? 1)
        finalsChanged.insert(window)
    }

    /// Replaces a region's part of a kept final and publishes it again at once; target trackers
    /// and comparisons follow, as in a shard (`ShardProcessor.reviseClosed`).
    mutating func revise(_ window: Window, region: String, _ aggregate: KPIAggregate, effects: inout [ShardEffect]) {
        guard var final = finals[window] else { return }
        let before = final.total
        final.parts[region] = aggregate
        final.revision += 1
        finals[window] = final
        let after = final.total
        finalsChanged.insert(window)
        var s = summary(window, total: after, final: true)
        s.revision = final.revision
        s.revised = true
        effects.append(.summary(s))
        if let unit = Comparisons.unit(of: settings.windows[Int(window.kind)], scope: .company) {
            history.record(kind: window.kind, start: window.start, PeriodFigures(after))
            history.forget(kind: window.kind, through: settings.calendar.yearEarlier(unit, than: window.start).start)
        }
        guard window.kind == dayKind else { return }
        for key in settings.targets.companyKeys {
            let period = settings.calendar.interval(key.period, containing: window.start)
            // A period already judged to its end has no tracker left to correct.
            guard trackers[key.period]?.start == period.start else { continue }
            trackers[key.period]!.tracker.revenueSoFar.minorUnits +=
                after.revenue.minorUnits - before.revenue.minorUnits
        }
    }

    /// Drops kept finals the horizon has passed.
    mutating func expireFinals() {
        let cutoff = finalized - settings.revisionHorizonMillis
        for window in finals.keys where window.end <= cutoff {
            finals[window] = nil
            finalsChanged.insert(window)
        }
    }

    /// Kept company finals (a metric).
    package var revisableWindowCount: Int { finals.count }
}
