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
        w.field("revised", revised)
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
        // Null too when the projection does not fit in an amount: revenue that a source ahead
        // of the watermark brought in while the watermark is a sliver into the window.
        w.field("projected", target == nil || pace <= 0 ? nil : Money(rounding: Double(a.revenue.minorUnits) / pace))
        w.field("market_size", marketSize)
        w.field("market_share", marketSize.flatMap { $0.minorUnits > 0 ? a.revenue.doubleValue / $0.doubleValue : nil })
        w.field("watermark", timestamp: watermark == .min ? nil : watermark)
        if let comparisons {
            w.beginObject("comparisons")
            Self.write("previous", comparisons.previous, current: a, to: &w, calendar: calendar)
            Self.write("year_ago", comparisons.yearAgo, current: a, to: &w, calendar: calendar)
            w.endObject()
        }
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

    /// One comparison: the past window's figures and the change from them to this window's
    /// (differences of the published values; growth as a fraction of the past revenue). Null
    /// when the past window is unknown, and each change null where either side is.
    private static func write(
        _ key: StaticString, _ period: Comparisons.Period?, current a: KPIAggregate, to w: inout JSONWriter,
        calendar: BusinessCalendar
    ) {
        guard let period else {
            w.field(key, nil as String?)
            return
        }
        let past = period.figures
        let now = PeriodFigures(a)
        // Saturated company sums (`KPIAggregate.merge`) could overflow a difference: null then.
        func difference(_ x: Money?, _ y: Money?) -> Money? {
            guard let x, let y else { return nil }
            let (d, overflow) = x.minorUnits.subtractingReportingOverflow(y.minorUnits)
            return overflow ? nil : Money(minorUnits: d)
        }
        w.beginObject(key)
        w.field("start", timestamp: period.start, offsetSeconds: calendar.offsetSeconds(at: period.start))
        w.field("end", timestamp: period.end, offsetSeconds: calendar.offsetSeconds(at: period.end))
        w.field("revenue", past.revenue)
        w.field("won", Int(past.won))
        w.field("win_rate", past.winRate)
        w.field("avg_deal_size", past.avgDealSize)
        w.field("cac", past.cac)
        w.beginObject("change")
        let revenueChange = difference(now.revenue, past.revenue)
        w.field("revenue", revenueChange)
        w.field(
            "revenue_growth",
            past.revenue.minorUnits == 0 ? nil : revenueChange.map { $0.doubleValue / past.revenue.doubleValue })
        w.field("won", Int(now.won) - Int(past.won))
        w.field("win_rate", now.winRate.flatMap { x in past.winRate.map { x - $0 } })
        w.field("avg_deal_size", difference(now.avgDealSize, past.avgDealSize))
        w.field("cac", difference(now.cac, past.cac))
        w.endObject()
        w.endObject()
    }
}
