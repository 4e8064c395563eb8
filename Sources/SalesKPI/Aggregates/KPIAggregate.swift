/// The mergeable parts of every KPI for one scope and window (SPEC §2, §5).
///
/// Only sums and counts live here; ratios are derived when a summary is written, so region
/// aggregates add up to the company aggregate exactly.
package struct KPIAggregate: Sendable, Equatable, Codable {
    package var revenue = Money.zero
    package var won: Int32 = 0
    package var lost: Int32 = 0
    /// Sum over won deals of `occurred_at − created_at`, in milliseconds.
    package var cycleMillisSum: Int64 = 0
    package var cycleSketch = QuantileSketch()
    package var newCustomers: Int32 = 0
    package var churnedCustomers: Int32 = 0
    /// Net customers acquired before the window start (S in SPEC §2).
    package var activeCustomersStart: Int32 = 0
    package var spend = Money.zero

    package init() {}

    package mutating func merge(_ other: KPIAggregate) {
        revenue += other.revenue
        won += other.won
        lost += other.lost
        cycleMillisSum += other.cycleMillisSum
        cycleSketch.merge(other.cycleSketch)
        newCustomers += other.newCustomers
        churnedCustomers += other.churnedCustomers
        activeCustomersStart += other.activeCustomersStart
        spend += other.spend
    }

    /// Adds (sign +1) or retracts (sign −1) one won deal.
    package mutating func applyWon(amount: Money, cycleMillis: Int64, sign: Int32) {
        revenue.minorUnits += Int64(sign) * amount.minorUnits
        won += sign
        cycleMillisSum += Int64(sign) * cycleMillis
        let days = Double(cycleMillis) / Double(Timestamp.millisPerDay)
        if sign > 0 { cycleSketch.add(days) } else { cycleSketch.remove(days) }
    }
}
