/// A KPI snapshot of one scope and window, as published to `kpi.summaries` (docs/outputs.md).
package struct Summary: Sendable, Equatable {
    package var scope: ScopeKey
    package var window: Window
    package var windowName: String
    package var final: Bool
    package var revision: Int
    /// A final published again because a corrected deal changed it (docs/outputs.md).
    package var revised = false
    package var aggregate: KPIAggregate
    /// The emitting shard's watermark; `pace` derives from it.
    package var watermark: EpochMillis
    package var target: Money?
    package var marketSize: Money?
    /// Region and company weeks, months and quarters only (`Comparisons.unit`).
    package var comparisons: Comparisons?

    package init(
        scope: ScopeKey, window: Window, windowName: String, final: Bool, revision: Int, aggregate: KPIAggregate,
        watermark: EpochMillis, target: Money?, marketSize: Money?, comparisons: Comparisons? = nil
    ) {
        self.comparisons = comparisons
        self.scope = scope
        self.window = window
        self.windowName = windowName
        self.final = final
        self.revision = revision
        self.aggregate = aggregate
        self.watermark = watermark
        self.target = target
        self.marketSize = marketSize
    }

    /// Elapsed fraction of the window in event time (1 once final).
    package var pace: Double {
        if final { return 1 }
        guard watermark != .min else { return 0 }
        let elapsed = Double(min(max(watermark - window.start, 0), window.end - window.start))
        return elapsed / Double(window.end - window.start)
    }
}
