/// One scope's open windows and customer history inside a shard.
struct ScopeState: Sendable, Codable {
    struct WindowState: Sendable, Codable {
        var aggregate = KPIAggregate()
        var revision = 0
        var dirty = true
    }

    var windows: [Window: WindowState] = [:]
    var ledger = CustomerLedger()
}
