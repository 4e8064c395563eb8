/// The JSON form of summaries on `kpi.summaries` (docs/outputs.md).
extension Summary {
    package func json(currency: String, calendar: BusinessCalendar) -> [UInt8] {
        let a = aggregate
        let f = KPIFigures(a)
        var w = JSONWriter()
        w.beginObject()
        w.beginObject("scope")
        w.field("kind", scope.kind.rawValue)
        // A rep's id joined as it is written: building `scope.id` costs a string allocation.
        if scope.kind == .rep {
            w.field("id", scope.region, UInt8(ascii: "/"), scope.rep)
        } else {
            w.field("id", scope.id)
        }
        w.field("region", scope.kind == .company ? nil : scope.region)
        w.field("rep", scope.kind == .rep ? scope.rep : nil)
        w.endObject()
        w.beginObject("window")
        w.field("kind", windowName)
        w.field("start", timestamp: window.start, offsetSeconds: calendar.offsetSeconds(at: window.start))
        w.field("end", timestamp: window.end, offsetSeconds: calendar.offsetSeconds(at: window.end))
        w.endObject()
        w.field("final", final)
        w.field("revision", revision)
        w.field("currency", currency)
        w.field("revenue", a.revenue)
        w.field("won", Int(a.won))
        w.field("lost", Int(a.lost))
        w.field("win_rate", f.winRate)
        w.field("avg_deal_size", f.avgDealSize)
        w.beginObject("cycle_days")
        w.field("mean", f.cycleMeanDays)
        w.field("p50", f.cycleP50Days)
        w.field("p90", f.cycleP90Days)
        w.endObject()
        w.field("new_customers", Int(a.newCustomers))
        w.field("churned_customers", Int(a.churnedCustomers))
        w.field("active_customers_start", Int(a.activeCustomersStart))
        w.field("retention_rate", f.retentionRate)
        w.field("spend", a.spend)
        w.field("cac", f.cac)
        let pace = self.pace
        w.field("target", target)
        w.field("attainment", target.map { a.revenue.doubleValue / $0.doubleValue })
        w.field("pace", pace)
        w.field(
            "projected",
            target == nil || pace <= 0 ? nil : Money(minorUnits: Int64((Double(a.revenue.minorUnits) / pace).rounded()))
        )
        w.field("market_size", marketSize)
        w.field("market_share", marketSize.flatMap { $0.minorUnits > 0 ? a.revenue.doubleValue / $0.doubleValue : nil })
        w.field("watermark", timestamp: watermark == .min ? nil : watermark)
        w.beginObject("parts")
        w.field("revenue_minor", a.revenue.minorUnits)
        w.field("won", Int(a.won))
        w.field("lost", Int(a.lost))
        w.field("cycle_ms_sum", a.cycleMillisSum)
        w.beginObject("cycle_sketch")
        w.field("relative_accuracy", QuantileSketch.relativeAccuracy)
        w.field("zero", Int(a.cycleSketch.zeroCount))
        w.beginArray("bins")
        a.cycleSketch.forEachBin { bin in w.pairElement(Int64(bin.index), Int64(bin.count)) }
        w.endArray()
        w.endObject()
        w.field("new_customers", Int(a.newCustomers))
        w.field("churned_customers", Int(a.churnedCustomers))
        w.field("active_customers_start", Int(a.activeCustomersStart))
        w.field("spend_minor", a.spend.minorUnits)
        w.endObject()
        w.endObject()
        return w.bytes
    }
}
