/// What a shard asks the runtime to publish.
package enum ShardEffect: Sendable, Equatable {
    case summary(Summary)
    case alert(Alert)
    /// A region's net customer change, at the window boundary the shard's ledger files it under:
    /// the company rollup keeps every region's customer base from these, so a region needs no
    /// window (and publishes no summary) for a period without activity.
    case customers(region: String, at: EpochMillis, delta: Int32)
}

/// What happened to one event handed to a shard.
package enum Disposition: Sendable, Equatable {
    /// Counted in the KPIs.
    case counted
    /// Valid but carries no KPI (deal.created, deal.stage_changed): only moves event time.
    case timeOnly
    /// Same `event_id` seen before: dropped.
    case duplicate
    /// A deal outcome older than the one already counted for the deal: ignored.
    case superseded
    /// Older than the watermark: goes to the dead-letter topic with reason `late`.
    case late
    /// Not counted, for the reason given (`amount_overflow`, `scope_limit`): goes to the
    /// dead-letter topic with it.
    case rejected(Rejection)
}
