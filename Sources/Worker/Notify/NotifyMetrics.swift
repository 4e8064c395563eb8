import CoreMetrics

/// `salespulse notify`'s Prometheus metrics (README, Metrics), counted where the notifier
/// counts; one series per configured webhook and outcome.
// @unchecked Sendable: only immutable references to metric objects, which are thread-safe.
package final class NotifyMetrics: @unchecked Sendable {
    let alerts: Counter
    let alreadyHandled: Counter
    let inFlight: Gauge
    let assigned: Gauge
    private let deliveries: [String: (sent: Counter, deadLettered: Counter)]

    package init(factory: any MetricsFactory, webhooks: [String]) {
        alerts = Counter(label: "salespulse_notify_alerts_total", factory: factory)
        alreadyHandled = Counter(label: "salespulse_notify_already_handled_total", factory: factory)
        inFlight = Gauge(label: "salespulse_notify_in_flight", factory: factory)
        assigned = Gauge(label: "salespulse_notify_assigned_partitions", factory: factory)
        var deliveries: [String: (sent: Counter, deadLettered: Counter)] = [:]
        for name in webhooks {
            func counter(_ outcome: String) -> Counter {
                Counter(
                    label: "salespulse_notify_deliveries_total", dimensions: [("webhook", name), ("outcome", outcome)],
                    factory: factory)
            }
            deliveries[name] = (counter("sent"), counter("dead_lettered"))
        }
        self.deliveries = deliveries
    }

    func delivered(to webhook: String, sent: Bool) {
        guard let counters = deliveries[webhook] else { return }
        if sent { counters.sent.increment() } else { counters.deadLettered.increment() }
    }
}
