/// The derived KPIs of one aggregate: what dashboards read.
package struct KPIFigures: Sendable, Equatable {
    package var winRate: Double?
    package var avgDealSize: Money?
    package var cycleMeanDays: Double?
    package var cycleP50Days: Double?
    package var cycleP90Days: Double?
    package var retentionRate: Double?
    package var cac: Money?

    package init(_ a: KPIAggregate) {
        let decided = Int(a.won) + Int(a.lost)
        winRate = decided == 0 ? nil : Double(a.won) / Double(decided)
        avgDealSize = a.revenue.divided(by: Int(a.won))
        cycleMeanDays = a.won == 0 ? nil : Double(a.cycleMillisSum) / Double(a.won) / Double(Timestamp.millisPerDay)
        cycleP50Days = a.cycleSketch.quantile(0.5)
        cycleP90Days = a.cycleSketch.quantile(0.9)
        let start = Int(a.activeCustomersStart)
        retentionRate = start <= 0 ? nil : Double(start - Int(a.churnedCustomers)) / Double(start)
        cac = a.spend.divided(by: Int(a.newCustomers))
    }
}
