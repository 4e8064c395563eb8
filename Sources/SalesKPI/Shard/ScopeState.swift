/// One scope's open windows and customer history inside a shard.
struct ScopeState: Sendable, Codable {
    struct WindowState: Sendable, Codable {
        var aggregate = KPIAggregate()
        var revision: Int32 = 0
        var dirty = true
    }

    var windows = WindowTable()
    var ledger = CustomerLedger()
}
