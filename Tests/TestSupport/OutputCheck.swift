import Foundation
import Worker

/// Compares the summaries a pipeline published with the reference model.
package enum OutputCheck {
    package struct Report {
        package var finals = 0
        /// Windows whose final summary differs from the reference: "key: what differs".
        package var mismatches: [String] = []
        /// Windows with more than one final summary, where the copies differ.
        package var conflictingFinals: [String] = []
        /// Windows with more than one final summary at all (revisions aside).
        package var repeatedFinals = 0
        /// Revised finals: a later final of a window with `"revised": true` and a higher
        /// revision, which replaces the one before it (docs/outputs.md).
        package var revisions = 0
        /// The windows revised at least once.
        package var revisedWindows: Set<String> = []
        /// Windows with counted activity but no final summary.
        package var missing: [String] = []
        /// Distinct final windows per scope kind (`company`, `region`, `rep`).
        package var finalsByScopeKind: [String: Int] = [:]

        /// Every way the finals fall short of the reference (differing, conflicting, missing),
        /// each with its count and first examples: empty when every window has its reference final.
        package var failures: [String] {
            var out: [String] = []
            if !mismatches.isEmpty { out.append("\(mismatches.count) finals differ, first: \(mismatches.prefix(5))") }
            if !conflictingFinals.isEmpty {
                out.append("\(conflictingFinals.count) windows with differing finals: \(conflictingFinals.prefix(5))")
            }
            if !missing.isEmpty { out.append("\(missing.count) windows without a final: \(missing.prefix(5))") }
            return out
        }
    }

    /// `targets` and `markets` (`kind:region:window` → size in fen) as configured for the run.
    package static func summaries(
        _ messages: [ReadMessage], model: ReferenceModel, windows: [String], targets: [TargetsFile.Entry],
        markets: [String: Int64], finalWatermark: Int64, allowDuplicateFinals: Bool
    ) throws -> Report {
        let calendar = ReferenceCalendar()
        var report = Report()
        var finals: [String: [String: Any]] = [:]
        var finalPartition: [String: Int32] = [:]
        let finalMarker = Array("\"final\":true".utf8)
        for m in messages {
            // Provisional summaries need no parsing.
            guard m.value.count > finalMarker.count,
                m.value.indices.dropLast(finalMarker.count).contains(where: {
                    m.value[$0..<($0 + finalMarker.count)].elementsEqual(finalMarker)
                }),
                let json = try JSONSerialization.jsonObject(with: Data(m.value)) as? [String: Any],
                json["final"] as? Bool == true
            else { continue }
            let scope = json["scope"] as! [String: Any]
            let window = json["window"] as! [String: Any]
            let key =
                "\(scope["kind"]!)|\(scope["id"]!)|\(window["kind"]!)|\(ReferenceCalendar.parse(window["start"] as! String))"
            let revised = json["revised"] as? Bool == true
            if revised, finals[key] == nil {
                report.conflictingFinals.append("\(key): a revised final with no final before it")
            }
            if let previous = finals[key], revised,
                (json["revision"] as? Int ?? 0) > (previous["revision"] as? Int ?? .max)
            {
                report.revisions += 1
                report.revisedWindows.insert(key)
            } else if let previous = finals[key] {
                report.repeatedFinals += 1
                // Identical apart from when it was published: the parts that define the window's value.
                var a = previous
                var b = json
                for k in ["watermark", "revision"] {
                    a[k] = nil
                    b[k] = nil
                }
                // Compared as canonical JSON: Foundation's NSDictionary equality on Linux does not
                // treat two parsed `true` values as equal.
                if try canonical(a) != canonical(b) {
                    let differing = try Set(a.keys).union(b.keys).filter { k in
                        guard let x = a[k], let y = b[k] else { return true }
                        return try canonical(["v": x]) != canonical(["v": y])
                    }
                    let detail = try differing.sorted().map { k in
                        "\(k): \(try a[k].map { try canonical(["v": $0]) } ?? "absent") then \(try b[k].map { try canonical(["v": $0]) } ?? "absent")"
                    }
                    report.conflictingFinals.append(
                        "\(key) [\(detail.joined(separator: "; ")); watermarks \(previous["watermark"] ?? "nil") then \(json["watermark"] ?? "nil"); partitions \(finalPartition[key] ?? -1) then \(m.partition)@\(m.offset)]"
                    )
                }
            }
            finals[key] = json
            finalPartition[key] = m.partition
        }
        report.finals = finals.count
        // Comparisons are known from the window holding a scope's first counted event on.
        var firstTime: [ReferenceModel.Scope: Int64] = [:]
        for e in model.counted {
            for scope in ReferenceModel.scopes(of: e) where scope.kind != "rep" {
                firstTime[scope] = min(firstTime[scope] ?? .max, e.time)
            }
        }
        if !allowDuplicateFinals, report.repeatedFinals > 0 {
            report.conflictingFinals.append("\(report.repeatedFinals) repeated finals")
        }
        for (key, json) in finals.sorted(by: { $0.key < $1.key }) {
            let s = json["scope"] as! [String: Any]
            let scope = ReferenceModel.Scope(
                kind: s["kind"] as! String, region: s["region"] as? String ?? "", rep: s["rep"] as? String ?? "")
            report.finalsByScopeKind[scope.kind, default: 0] += 1
            let w = json["window"] as! [String: Any]
            let kind = w["kind"] as! String
            let start = ReferenceCalendar.parse(w["start"] as! String)
            let end = ReferenceCalendar.parse(w["end"] as! String)
            var diffs: [String] = []
            if kind == "7d/1d" {
                if !(start % ReferenceCalendar.day == 0 && end - start == 7 * ReferenceCalendar.day) {
                    diffs.append("boundaries \(w)")
                }
            } else {
                let i = calendar.interval(kind, containing: start)
                if !(i.start == start && i.end == end) { diffs.append("boundaries \(w)") }
            }
            let reference = model.aggregate(scope, start: start, end: end)
            diffs += compare(json, reference, scope: scope, kind: kind, targets: targets, markets: markets)
            diffs += compareComparisons(
                json, reference, scope: scope, kind: kind, start: start, model: model, first: firstTime[scope],
                calendar: calendar)
            if !diffs.isEmpty { report.mismatches.append("\(key): \(diffs.joined(separator: "; "))") }
        }
        var missing = Set<String>()
        for e in model.counted {
            for scope in ReferenceModel.scopes(of: e)
            where !(scope.kind == "rep" && e.type == "spend.recorded" && e.rep == nil) {
                for (kind, start, end) in ReferenceModel.windows(containing: e.time, kinds: windows, calendar: calendar)
                where end <= finalWatermark {
                    let key = "\(scope.kind)|\(scope.id)|\(kind)|\(start)"
                    if finals[key] == nil { missing.insert(key) }
                }
            }
        }
        report.missing = missing.sorted()
        return report
    }

    private static func compare(
        _ j: [String: Any], _ r: ReferenceModel.Aggregate, scope: ReferenceModel.Scope, kind: String,
        targets: [TargetsFile.Entry], markets: [String: Int64]
    ) -> [String] {
        var diffs = FieldDifferences()
        func check<T: Equatable>(_ name: String, _ actual: T?, _ expected: T?) { diffs.check(name, actual, expected) }
        func close(_ name: String, _ actual: Double?, _ expected: Double?, relative: Double = 1e-9) {
            diffs.close(name, actual, expected, relative: relative)
        }
        let parts = j["parts"] as! [String: Any]
        check("revenue_minor", (parts["revenue_minor"] as? NSNumber)?.int64Value, r.revenue)
        check("won", j["won"] as? Int, r.won)
        check("lost", j["lost"] as? Int, r.lost)
        check("cycle_ms_sum", (parts["cycle_ms_sum"] as? NSNumber)?.int64Value, r.cycleMillisSum)
        check("new_customers", j["new_customers"] as? Int, r.newCustomers)
        check("churned_customers", j["churned_customers"] as? Int, r.churned)
        check("active_customers_start", j["active_customers_start"] as? Int, r.activeStart)
        check("spend_minor", (parts["spend_minor"] as? NSNumber)?.int64Value, r.spend)
        check("revenue", j["revenue"] as? String, ReferenceModel.money(r.revenue))
        check("spend", j["spend"] as? String, ReferenceModel.money(r.spend))
        check("avg_deal_size", j["avg_deal_size"] as? String, ReferenceModel.moneyRatio(r.revenue, r.won))
        check("cac", j["cac"] as? String, ReferenceModel.moneyRatio(r.spend, r.newCustomers))
        close("win_rate", j["win_rate"] as? Double, r.won + r.lost == 0 ? nil : Double(r.won) / Double(r.won + r.lost))
        close(
            "retention_rate", j["retention_rate"] as? Double,
            r.activeStart <= 0 ? nil : Double(r.activeStart - r.churned) / Double(r.activeStart))
        let cycle = j["cycle_days"] as! [String: Any]
        close(
            "cycle mean", cycle["mean"] as? Double,
            r.won == 0 ? nil : Double(r.cycleMillisSum) / Double(r.won) / 86_400_000)
        close("cycle p50", cycle["p50"] as? Double, ReferenceModel.quantile(r.cycleDays, 0.5), relative: 0.01)
        close("cycle p90", cycle["p90"] as? Double, ReferenceModel.quantile(r.cycleDays, 0.9), relative: 0.01)
        let target = targets.first {
            $0.scope == scope.kind && ($0.region ?? "") == scope.region && ($0.rep ?? "") == scope.rep
                && $0.period == kind
        }
        let targetMinor = target.map { Int64($0.amount)! * 100 }
        check("target", j["target"] as? String, targetMinor.map(ReferenceModel.money))
        close(
            "attainment", j["attainment"] as? Double, targetMinor.map { (Double(r.revenue) / 100) / (Double($0) / 100) }
        )
        let market = markets["\(scope.kind):\(scope.kind == "company" ? "" : scope.region):\(kind)"]
        close(
            "market_share", j["market_share"] as? Double,
            scope.kind == "rep" ? nil : market.map { (Double(r.revenue) / 100) / (Double($0) / 100) })
        check("pace", j["pace"] as? Double, 1.0)
        return diffs.lines
    }

    /// The `comparisons` of a final: present for region and company weeks, months and quarters
    /// only; each side null before the scope's first window, else the reference's figures of
    /// that window (zero without activity) and the changes to this one.
    private static func compareComparisons(
        _ j: [String: Any], _ current: ReferenceModel.Aggregate, scope: ReferenceModel.Scope, kind: String,
        start: Int64, model: ReferenceModel, first: Int64?, calendar: ReferenceCalendar
    ) -> [String] {
        guard scope.kind != "rep", ["week", "month", "quarter"].contains(kind) else {
            return j["comparisons"] == nil ? [] : ["comparisons present on a \(scope.kind) \(kind)"]
        }
        guard let comparisons = j["comparisons"] as? [String: Any] else { return ["comparisons missing"] }
        var diffs: [String] = []
        func rate(_ a: ReferenceModel.Aggregate) -> Double? {
            a.won + a.lost == 0 ? nil : Double(a.won) / Double(a.won + a.lost)
        }
        let ratio = ReferenceModel.minorRatio
        func text(_ minor: Int64?) -> String? {
            minor.map { $0 < 0 ? "-" + ReferenceModel.money(-$0) : ReferenceModel.money($0) }
        }
        for (name, yearAgo) in [("previous", false), ("year_ago", true)] {
            let window = calendar.compared(kind, start: start, yearAgo: yearAgo)
            let known = first.map { window.start >= calendar.interval(kind, containing: $0).start } ?? false
            guard known else {
                if !(comparisons[name] is NSNull) { diffs.append("\(name) should be null") }
                continue
            }
            guard let c = comparisons[name] as? [String: Any], let change = c["change"] as? [String: Any] else {
                diffs.append("\(name) missing")
                continue
            }
            let past = model.aggregate(scope, start: window.start, end: window.end)
            var fields = FieldDifferences(prefix: name + ".")
            defer { diffs += fields.lines }
            func check<T: Equatable>(_ field: String, _ actual: T?, _ expected: T?) {
                fields.check(field, actual, expected)
            }
            func close(_ field: String, _ actual: Double?, _ expected: Double?) {
                fields.close(field, actual, expected)
            }
            check("start", (c["start"] as? String).map(ReferenceCalendar.parse), window.start)
            check("end", (c["end"] as? String).map(ReferenceCalendar.parse), window.end)
            check("revenue", c["revenue"] as? String, text(past.revenue))
            check("won", c["won"] as? Int, past.won)
            close("win_rate", c["win_rate"] as? Double, rate(past))
            check("avg_deal_size", c["avg_deal_size"] as? String, ReferenceModel.moneyRatio(past.revenue, past.won))
            check("cac", c["cac"] as? String, ReferenceModel.moneyRatio(past.spend, past.newCustomers))
            check("change.revenue", change["revenue"] as? String, text(current.revenue - past.revenue))
            close(
                "change.revenue_growth", change["revenue_growth"] as? Double,
                past.revenue == 0 ? nil : Double(current.revenue - past.revenue) / Double(past.revenue))
            check("change.won", change["won"] as? Int, current.won - past.won)
            close(
                "change.win_rate", change["win_rate"] as? Double,
                rate(current).flatMap { x in rate(past).map { x - $0 } })
            let avg = ratio(current.revenue, current.won).flatMap { x in ratio(past.revenue, past.won).map { x - $0 } }
            check("change.avg_deal_size", change["avg_deal_size"] as? String, text(avg))
            let cac = ratio(current.spend, current.newCustomers).flatMap { x in
                ratio(past.spend, past.newCustomers).map { x - $0 }
            }
            check("change.cac", change["cac"] as? String, text(cac))
        }
        return diffs
    }

    /// JSON with sorted keys, for comparing parsed objects.
    static func canonical(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}
