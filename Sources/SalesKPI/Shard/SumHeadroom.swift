/// Upper bounds on the sums in one scope's open windows, so that an event which could overflow
/// one of them is found without scanning its windows (docs/guarantees.md, bad input).
///
/// Every sum only grows by what the shard admits, so a bound that grows with every admitted
/// event stays above every open window's sum. Real scopes never come near the limits and take
/// the one-comparison path for good; a scope that does is checked window by window from then on.
struct SumHeadroom: Sendable {
    /// The largest money sum (revenue, spend) one scope's window may hold: 2^53 minor units,
    /// 90 trillion yuan. The company sums at most 1,024 such regions without leaving Int64;
    /// beyond that its sums saturate (`KPIAggregate.merge`).
    static let maxMoney: Int64 = 1 << 53
    /// The largest count (won, lost, new and churned customers) one window may hold.
    static let maxCount: Int64 = Int64(Int32.max) / 2

    var money: Int64 = 0
    var count: Int64 = 0
    var cycleMillis: Int64 = 0

    /// What one event adds to its windows' sums.
    struct Increment: Sendable {
        var money: Int64 = 0
        var count: Int64 = 0
        var cycleMillis: Int64 = 0
    }

    /// Whether `add` fits under every bound without looking at the windows.
    func clearlyAdmits(_ add: Increment) -> Bool {
        money <= Self.maxMoney - add.money && count <= Self.maxCount - add.count
            && cycleMillis <= Int64.max - add.cycleMillis
    }

    /// Records an admitted increment; saturates once past the bounds.
    mutating func record(_ add: Increment) {
        money = Self.saturated(money, add.money)
        count = Self.saturated(count, add.count)
        cycleMillis = Self.saturated(cycleMillis, add.cycleMillis)
    }

    /// The bound after a restore: the largest sums in the restored windows.
    init(windows: WindowTable) {
        windows.forEach { _, state in
            let a = state.aggregate
            money = max(money, a.revenue.minorUnits, a.spend.minorUnits)
            count = max(count, Int64(a.won), Int64(a.lost), Int64(a.newCustomers), Int64(a.churnedCustomers))
            cycleMillis = max(cycleMillis, a.cycleMillisSum)
        }
    }

    init() {}

    /// Whether `add` fits in `aggregate`, sum by sum.
    static func fits(_ add: Increment, in a: KPIAggregate) -> Bool {
        let money = max(a.revenue.minorUnits, a.spend.minorUnits)
        let count = max(Int64(a.won), Int64(a.lost), Int64(a.newCustomers), Int64(a.churnedCustomers))
        return money <= maxMoney - add.money && count <= maxCount - add.count
            && a.cycleMillisSum <= Int64.max - add.cycleMillis
    }

    static func saturated(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }
}
