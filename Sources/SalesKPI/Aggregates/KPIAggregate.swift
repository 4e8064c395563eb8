/// The mergeable parts of every KPI for one scope and window (docs/kpis.md, docs/outputs.md).
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
    /// Net customers acquired before the window start (S in docs/kpis.md).
    package var activeCustomersStart: Int32 = 0
    package var spend = Money.zero

    package init() {}

    /// Encoded as one flat array, since changelog and rollup records carry thousands of these:
    /// `[revenue, won, lost, cycleMs, zero, [bin, count, …], new, churned, activeStart, spend]`.
    package func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(revenue.minorUnits)
        try c.encode(won)
        try c.encode(lost)
        try c.encode(cycleMillisSum)
        try c.encode(cycleSketch.zeroCount)
        try c.encode(cycleSketch.bins.flatMap { [Int64($0.index), Int64($0.count)] })
        try c.encode(newCustomers)
        try c.encode(churnedCustomers)
        try c.encode(activeCustomersStart)
        try c.encode(spend.minorUnits)
    }

    package init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        revenue = Money(minorUnits: try c.decode(Int64.self))
        won = try c.decode(Int32.self)
        lost = try c.decode(Int32.self)
        cycleMillisSum = try c.decode(Int64.self)
        let zero = try c.decode(UInt32.self)
        let flat = try c.decode([Int64].self)
        var bins: [QuantileSketch.Bin] = []
        var k = 0
        while k + 1 < flat.count {
            bins.append(QuantileSketch.Bin(index: Int16(clamping: flat[k]), count: UInt32(clamping: flat[k + 1])))
            k += 2
        }
        cycleSketch = QuantileSketch(zeroCount: zero, bins: bins)
        newCustomers = try c.decode(Int32.self)
        churnedCustomers = try c.decode(Int32.self)
        activeCustomersStart = try c.decode(Int32.self)
        spend = Money(minorUnits: try c.decode(Int64.self))
    }

    /// Adds another scope's aggregate (the company's from its regions). Each region's sums are
    /// bounded (`SumHeadroom`), but not how many regions there are: sums saturate instead of
    /// trapping, which takes more than 1,024 regions at their bound.
    package mutating func merge(_ other: KPIAggregate) {
        revenue.minorUnits = Self.saturated(revenue.minorUnits, other.revenue.minorUnits)
        won = Self.saturated(won, other.won)
        lost = Self.saturated(lost, other.lost)
        cycleMillisSum = Self.saturated(cycleMillisSum, other.cycleMillisSum)
        cycleSketch.merge(other.cycleSketch)
        newCustomers = Self.saturated(newCustomers, other.newCustomers)
        churnedCustomers = Self.saturated(churnedCustomers, other.churnedCustomers)
        activeCustomersStart = Self.saturated(activeCustomersStart, other.activeCustomersStart)
        spend.minorUnits = Self.saturated(spend.minorUnits, other.spend.minorUnits)
    }

    static func saturated<T: FixedWidthInteger>(_ a: T, _ b: T) -> T {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard overflow else { return sum }
        return b > 0 ? .max : .min
    }

    /// Adds (sign +1) or retracts (sign −1) one won deal.
    package mutating func applyWon(amount: Money, cycleMillis: Int64, sign: Int32) {
        applyWon(amount: amount, cycleMillis: cycleMillis, slot: Self.cycleSlot(cycleMillis), sign: sign)
    }

    /// The same, with the cycle's sketch slot (`cycleSlot`) found once for every window.
    package mutating func applyWon(amount: Money, cycleMillis: Int64, slot: QuantileSketch.Slot, sign: Int32) {
        revenue.minorUnits += Int64(sign) * amount.minorUnits
        won += sign
        cycleMillisSum += Int64(sign) * cycleMillis
        if sign > 0 { cycleSketch.add(slot) } else { cycleSketch.remove(slot) }
    }

    /// Where a sales cycle lands in the sketch, which holds days.
    package static func cycleSlot(_ cycleMillis: Int64) -> QuantileSketch.Slot {
        QuantileSketch.Slot(Double(cycleMillis) / Double(Timestamp.millisPerDay))
    }
}
