/// What a comparison keeps of a past window: the sums behind revenue, won, win rate, average
/// deal size and CAC (docs/kpis.md, comparisons). Exact money, as in the window's summary.
package struct PeriodFigures: Sendable, Equatable, Codable {
    package var revenue: Money
    package var won: Int32
    package var lost: Int32
    package var newCustomers: Int32
    package var spend: Money

    /// A window without activity.
    package static let zero = PeriodFigures(revenue: .zero, won: 0, lost: 0, newCustomers: 0, spend: .zero)

    package init(revenue: Money, won: Int32, lost: Int32, newCustomers: Int32, spend: Money) {
        self.revenue = revenue
        self.won = won
        self.lost = lost
        self.newCustomers = newCustomers
        self.spend = spend
    }

    package init(_ a: KPIAggregate) {
        self.init(revenue: a.revenue, won: a.won, lost: a.lost, newCustomers: a.newCustomers, spend: a.spend)
    }

    package var winRate: Double? {
        let decided = Int(won) + Int(lost)
        return decided == 0 ? nil : Double(won) / Double(decided)
    }

    package var avgDealSize: Money? { revenue.divided(by: Int(won)) }

    package var cac: Money? { spend.divided(by: Int(newCustomers)) }

    /// Encoded as `[revenue, won, lost, new, spend]`: the rollup keeps hundreds in one record.
    package func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(revenue.minorUnits)
        try c.encode(won)
        try c.encode(lost)
        try c.encode(newCustomers)
        try c.encode(spend.minorUnits)
    }

    package init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        revenue = Money(minorUnits: try c.decode(Int64.self))
        won = try c.decode(Int32.self)
        lost = try c.decode(Int32.self)
        newCustomers = try c.decode(Int32.self)
        spend = Money(minorUnits: try c.decode(Int64.self))
    }
}
