import Foundation
import SalesKPI
import Synchronization

/// What the terminal shows while `run` works: the latest region KPIs of the current month and
/// the alerts as they arrive. Fed by pipeline hooks from the pipeline thread.
package final class LiveBoard: Sendable {
    private struct State {
        var regions: [String: Summary] = [:]
        var company: Summary?
        var alerts: [Alert] = []
        var unseenAlerts: [Alert] = []
    }

    private let state = Mutex(State())
    private let settings: KPISettings
    private let windowKind: String

    package init(settings: KPISettings) {
        self.settings = settings
        let names = settings.windows.map(\.name)
        windowKind = names.contains("month") ? "month" : names.last ?? "day"
    }

    package var hooks: PipelineHooks {
        PipelineHooks(
            onSummary: { [self] s in record(s) },
            onAlert: { [self] a in
                state.withLock {
                    $0.alerts.append(a); $0.unseenAlerts.append(a)
                }
            })
    }

    private func record(_ s: Summary) {
        guard s.windowName == windowKind, s.scope.kind != .rep else { return }
        state.withLock { st in
            if s.scope.kind == .company {
                if st.company == nil || st.company!.window.start <= s.window.start { st.company = s }
            } else if let old = st.regions[s.scope.region], old.window.start > s.window.start {
                return
            } else {
                st.regions[s.scope.region] = s
            }
        }
    }

    /// Alerts that arrived since the last call.
    package func takeNewAlerts() -> [Alert] {
        state.withLock { st in
            defer { st.unseenAlerts.removeAll() }
            return st.unseenAlerts
        }
    }

    package var alertCount: Int { state.withLock { $0.alerts.count } }

    /// The KPI table, one line per region plus the company line.
    package func table(stats: PipelineStats) -> String {
        let (rows, company, recent) = state.withLock { st in
            (st.regions.values.sorted { $0.scope.region < $1.scope.region }, st.company, Array(st.alerts.suffix(6)))
        }
        let cur = settings.reportingCurrency
        var out = ""
        let watermark =
            stats.companyWatermark == .min
            ? "—"
            : Timestamp.format(
                stats.companyWatermark, offsetSeconds: settings.calendar.offsetSeconds(at: stats.companyWatermark))
        out += "event time \(watermark)   events \(stats.events)   dead letters \(stats.deadLetters)   "
        out +=
            "duplicates \(stats.duplicates)   summaries \(stats.summariesPublished)   alerts \(stats.alertsPublished)\n\n"
        let header = [
            pad("region", 9), lpad("\(windowKind) revenue", 15), lpad("target", 13), lpad("attain", 7),
            lpad("pace", 6), lpad("won/lost", 9), lpad("win%", 6), lpad("avg deal", 11), lpad("cycle p50", 10),
            lpad("new", 5), lpad("churn", 6), lpad("ret%", 6), lpad("spend", 11), lpad("CAC", 9), lpad("share", 7),
        ]
        out += header.joined(separator: " ") + "   (\(cur))\n"
        for s in rows + (company.map { [$0] } ?? []) {
            let a = s.aggregate
            let f = KPIFigures(a)
            let attain = s.target.map { pct(a.revenue.doubleValue / $0.doubleValue) } ?? "—"
            let share = s.marketSize.map { pct(a.revenue.doubleValue / $0.doubleValue) } ?? "—"
            let cells = [
                pad(s.scope.kind == .company ? "COMPANY" : DisplayName.of(s.scope.region), 9),
                lpad(a.revenue.description, 15),
                lpad(s.target?.description ?? "—", 13), lpad(attain, 7), lpad(pct(s.pace), 6),
                lpad("\(a.won)/\(a.lost)", 9), lpad(f.winRate.map(pct) ?? "—", 6),
                lpad(f.avgDealSize?.description ?? "—", 11),
                lpad(f.cycleP50Days.map { AlertText.fixed($0, 1) + "d" } ?? "—", 10),
                lpad("\(a.newCustomers)", 5), lpad("\(a.churnedCustomers)", 6),
                lpad(f.retentionRate.map(pct) ?? "—", 6),
                lpad(a.spend.description, 11), lpad(f.cac?.description ?? "—", 9), lpad(share, 7),
            ]
            out += cells.joined(separator: " ") + "\n"
        }
        if rows.isEmpty { out += "(waiting for the first summaries…)\n" }
        out += "\nlatest alerts:\n"
        if recent.isEmpty { out += "  (none yet)\n" }
        for alert in recent { out += "  " + line(alert) + "\n" }
        return out
    }

    /// One alert as a terminal line: severity, rule, scope, period and the message.
    package func line(_ a: Alert) -> String {
        let start = Timestamp.format(a.periodStart, offsetSeconds: settings.calendar.offsetSeconds(at: a.periodStart))
        return
            "[\(a.severity.rawValue)] \(a.rule.rawValue) \(DisplayName.of(a.scope.id)) \(a.periodKind) from \(start.prefix(10)): \(a.message)"
    }

    private func pct(_ x: Double) -> String { AlertText.fixed(x * 100, 0) + "%" }
    private func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s : s + String(repeating: " ", count: n - s.count)
    }
    private func lpad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s : String(repeating: " ", count: n - s.count) + s
    }
}
