/// One scope's open windows and customer history inside a shard.
struct ScopeState: Sendable {
    struct WindowState: Sendable {
        var aggregate = KPIAggregate()
        var revision: Int32 = 0
        var dirty = true
    }

    var windows = WindowTable()
    /// Final windows that a corrected deal can still revise (`ClosedWindow`), in closing order:
    /// by window (end, start, kind).
    var closed: [ClosedWindow] = []
    /// Windows of `closed` kept, revised or dropped since the last changelog flush (a window may
    /// repeat).
    /// Per scope rather than a set of (scope, window) keys for the shard: hashing the scope's
    /// strings for every final window kept and dropped was a twentieth of a backfill's domain
    /// work (scripts/bench.sh, shard).
    var closedChanged: [Window] = []
    var ledger = CustomerLedger()
    /// Changed since the last changelog flush. A flag rather than a set of keys: it costs no
    /// memory (it sits in the ledger's tail padding) and no hashing per event.
    var dirty = true
    /// Bounds on the sums in `windows`, for the overflow check of each event.
    var headroom = SumHeadroom()
    /// The event time of the latest event counted in the scope: an idle rep scope is dropped
    /// `KPISettings.repIdleMillis` after it.
    var lastActivity: EpochMillis = .min
}
