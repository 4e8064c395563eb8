/// A region's history as the body of its `h|…` changelog record (after the version byte and
/// the scope key): first starts as `[count, (kind, start)…]`, then entries as
/// `[count, (kind, start, revenue, won, lost, new, spend)…]`.
extension PeriodHistory {
    package func write(to w: inout BinaryWriter) {
        w.count(firstStart.count)
        for (kind, start) in firstStart.sorted(by: { $0.key < $1.key }) {
            w.byte(kind)
            w.int(start)
        }
        w.count(entries.count)
        for e in entries {
            w.byte(e.kind)
            w.int(e.start)
            w.int(e.figures.revenue.minorUnits)
            w.int(e.figures.won)
            w.int(e.figures.lost)
            w.int(e.figures.newCustomers)
            w.int(e.figures.spend.minorUnits)
        }
    }

    package init(reading r: inout BinaryReader) throws(BinaryReader.Malformed) {
        var firstStart: [UInt8: EpochMillis] = [:]
        for _ in 0..<(try r.count()) { firstStart[try r.byte()] = try r.int() }
        var entries: [Entry] = []
        for _ in 0..<(try r.count()) {
            let kind = try r.byte()
            let start = try r.int()
            let figures = PeriodFigures(
                revenue: Money(minorUnits: try r.int()), won: try r.int32(), lost: try r.int32(),
                newCustomers: try r.int32(), spend: Money(minorUnits: try r.int()))
            entries.append(Entry(kind: kind, start: start, figures: figures))
        }
        self.init(entries: entries, firstStart: firstStart)
    }
}
