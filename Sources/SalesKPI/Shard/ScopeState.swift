/// One scope's open windows and customer history inside a shard.
struct ScopeState: Sendable {
    struct WindowState: Sendable {
        var aggregate = KPIAggregate()
        var revision = 0
        var dirty = true
    }

    var windows: [Window: WindowState] = [:]
    var ledger = CustomerLedger()
}
