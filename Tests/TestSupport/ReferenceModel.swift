import Foundation

/// An independent, deliberately naive computation of every KPI from the scenario's own facts:
/// no code from the domain module, just filters and sums over the list of events.
package struct ReferenceModel {
    package struct Scope: Hashable, Sendable, CustomStringConvertible {
        package var kind: String
        package var region: String
        package var rep: String

        package init(kind: String, region: String = "", rep: String = "") {
            self.kind = kind
            self.region = region
            self.rep = rep
        }

        package var id: String { kind == "company" ? "company" : kind == "region" ? region : region + "/" + rep }
        package var description: String { "\(kind):\(id)" }

        func matches(_ e: Scenario.Event) -> Bool {
            switch kind {
            case "company": true
            case "region": e.region == region
            default: e.region == region && e.rep == rep
            }
        }
    }

    package struct Aggregate: Equatable, Sendable {
        package var revenue: Int64 = 0
        package var won = 0
        package var lost = 0
        package var cycleMillisSum: Int64 = 0
        package var cycleDays: [Double] = []
        package var newCustomers = 0
        package var churned = 0
        package var activeStart = 0
        package var spend: Int64 = 0
    }

    /// Events that count, after dedupe, lateness and one-outcome-per-deal.
    package let counted: [Scenario.Event]
    /// `counted` per scope, so a window's reference needs only its scope's events.
    private let byScope: [Scope: [Scenario.Event]]

    package init(_ scenario: Scenario) {
        let late = scenario.lateEventIds
        var seen = Set<String>()
        var valid: [Scenario.Event] = []
        for e in scenario.events where !late.contains(e.eventId) && seen.insert(e.eventId).inserted {
            if e.type == "deal.created" || e.type == "deal.stage_changed" { continue }
            valid.append(e)
        }
        // A deal's outcome counts once: the latest event of each type wins.
        var latest: [String: Scenario.Event] = [:]
        for e in valid where e.type == "deal.won" || e.type == "deal.lost" {
            let key = e.type + "|" + e.region + "|" + (e.deal ?? "")
            if let other = latest[key], (other.time, other.eventId) >= (e.time, e.eventId) { continue }
            latest[key] = e
        }
        let winners = Set(latest.values.map(\.eventId))
        counted = valid.filter { ($0.type != "deal.won" && $0.type != "deal.lost") || winners.contains($0.eventId) }
        var index: [Scope: [Scenario.Event]] = [:]
        for e in counted {
            for scope in Self.scopes(of: e) { index[scope, default: []].append(e) }
        }
        byScope = index
    }

    package func aggregate(_ scope: Scope, start: Int64, end: Int64) -> Aggregate {
        var a = Aggregate()
        for e in byScope[scope] ?? [] where scope.matches(e) {
            if e.type == "spend.recorded", scope.kind == "rep", e.rep == nil { continue }
            if e.time < start {
                if e.type == "customer.acquired" { a.activeStart += 1 }
                if e.type == "customer.churned" { a.activeStart -= 1 }
                continue
            }
            guard e.time < end else { continue }
            switch e.type {
            case "deal.won":
                a.revenue += e.amountMinor
                a.won += 1
                let cycle = e.time - (e.createdAt ?? e.time)
                a.cycleMillisSum += cycle
                a.cycleDays.append(Double(cycle) / 86_400_000)
            case "deal.lost": a.lost += 1
            case "customer.acquired": a.newCustomers += 1
            case "customer.churned": a.churned += 1
            case "spend.recorded": a.spend += e.amountMinor
            default: break
            }
        }
        return a
    }

    /// The windows (kind, start, end) an event time falls in, for the kinds the tests use.
    package static func windows(containing t: Int64, kinds: [String], calendar: ReferenceCalendar) -> [(
        String, Int64, Int64
    )] {
        var out: [(String, Int64, Int64)] = []
        for kind in kinds {
            if kind == "7d/1d" {
                let day = ReferenceCalendar.day
                let latest = (t >= 0 ? t / day : (t - day + 1) / day) * day
                for k in 0..<7 { out.append((kind, latest - Int64(k) * day, latest - Int64(k) * day + 7 * day)) }
            } else {
                let i = calendar.interval(kind, containing: t)
                out.append((kind, i.start, i.end))
            }
        }
        return out
    }

    /// Scopes an event contributes to.
    package static func scopes(of e: Scenario.Event) -> [Scope] {
        var s = [Scope(kind: "company"), Scope(kind: "region", region: e.region)]
        if let rep = e.rep { s.append(Scope(kind: "rep", region: e.region, rep: rep)) }
        return s
    }

    /// Exact quantile at rank ⌊q·(n−1)⌋.
    package static func quantile(_ values: [Double], _ q: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted[Int((q * Double(sorted.count - 1)).rounded(.down))]
    }

    /// `minor / count` rounded half to even, as text with two decimals.
    package static func moneyRatio(_ minor: Int64, _ count: Int) -> String? {
        minorRatio(minor, count).map(money)
    }

    /// `minor / count` in minor units, rounded half to even (non-negative `minor`).
    package static func minorRatio(_ minor: Int64, _ count: Int) -> Int64? {
        guard count > 0 else { return nil }
        var q = minor / Int64(count)
        let r = minor % Int64(count)
        if 2 * r > Int64(count) || (2 * r == Int64(count) && q % 2 != 0) { q += 1 }
        return q
    }

    package static func money(_ minor: Int64) -> String {
        "\(minor / 100).\(minor % 100 < 10 ? "0" : "")\(minor % 100)"
    }
}
