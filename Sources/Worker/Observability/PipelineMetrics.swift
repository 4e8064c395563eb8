import CoreMetrics
import Foundation
import Kafka
import SalesKPI

/// The worker's Prometheus metrics (base units, `_total` counters, low-cardinality labels).
///
/// Counters follow `PipelineStats`: the pipeline thread hands over its counters a few times a
/// second and only the difference is added, so the per-event path carries no metric calls except
/// the latency sample.
package final class PipelineMetrics: @unchecked Sendable {
    // @unchecked Sendable: the mutable bookkeeping below is only touched under `lock`; the
    // metric objects themselves are thread-safe.
    private let lock = NSLock()
    private let factory: any MetricsFactory
    private var published = PipelineStats()
    private var eventsByType: [EventType: Counter] = [:]
    private var deadLetters: [RejectReason: Counter] = [:]
    private var windowsClosed: [String: Counter] = [:]
    private var alerts: [String: Counter] = [:]
    private var lag: [TopicPartition: (messages: Gauge, seconds: Gauge?)] = [:]
    private let lateEvents: Counter
    private let duplicates: Counter
    private let unknownTypes: Counter
    private let summaries: (provisional: Counter, final: Counter)
    private let revisedFinals: Counter
    private let commits: Counter
    private let deliveryFailures: Counter
    private let consumed: Counter
    private let decodedAhead: Counter
    private let assigned: Gauge
    private let watermark: Gauge
    private let ready: Gauge
    private let latency: CoreMetrics.Timer
    private let restoreSeconds: Gauge
    private let restoredRecords: Counter
    private let repsEvicted: Counter
    private let clientErrors: Counter
    private let clientRetries: Counter

    package init(factory: any MetricsFactory) {
        self.factory = factory
        lateEvents = Counter(label: "salespulse_late_events_total", factory: factory)
        duplicates = Counter(label: "salespulse_duplicate_events_total", factory: factory)
        unknownTypes = Counter(label: "salespulse_unknown_type_events_total", factory: factory)
        revisedFinals = Counter(label: "salespulse_finals_revised_total", factory: factory)
        summaries = (
            Counter(label: "salespulse_summaries_published_total", dimensions: [("final", "false")], factory: factory),
            Counter(label: "salespulse_summaries_published_total", dimensions: [("final", "true")], factory: factory)
        )
        commits = Counter(label: "salespulse_offset_commits_total", factory: factory)
        deliveryFailures = Counter(label: "salespulse_delivery_failures_total", factory: factory)
        consumed = Counter(label: "salespulse_messages_consumed_total", factory: factory)
        decodedAhead = Counter(label: "salespulse_events_decoded_ahead_total", factory: factory)
        assigned = Gauge(label: "salespulse_assigned_partitions", factory: factory)
        watermark = Gauge(label: "salespulse_watermark_seconds", factory: factory)
        ready = Gauge(label: "salespulse_ready", factory: factory)
        latency = CoreMetrics.Timer(label: "salespulse_processing_latency_seconds", factory: factory)
        restoreSeconds = Gauge(label: "salespulse_restore_duration_seconds", factory: factory)
        restoredRecords = Counter(label: "salespulse_restored_records_total", factory: factory)
        repsEvicted = Counter(label: "salespulse_rep_scopes_evicted_total", factory: factory)
        clientErrors = Counter(label: "salespulse_kafka_client_errors_total", factory: factory)
        clientRetries = Counter(label: "salespulse_kafka_request_retries_total", factory: factory)
        for type in EventType.allCases {
            eventsByType[type] = Counter(
                label: "salespulse_events_processed_total", dimensions: [("type", type.wireName)], factory: factory)
        }
        for reason in RejectReason.allCases {
            deadLetters[reason] = Counter(
                label: "salespulse_dead_letters_total", dimensions: [("reason", reason.rawValue)], factory: factory)
        }
        for rule in [Alert.Rule.targetSlipping, .targetRecovered, .cacSpike] {
            alerts[rule.rawValue] = Counter(
                label: "salespulse_alerts_published_total", dimensions: [("rule", rule.rawValue)], factory: factory)
        }
    }

    /// Adds what changed since the last call.
    func update(_ s: PipelineStats) {
        lock.lock()
        defer { lock.unlock() }
        let p = published
        consumed.increment(by: s.consumed - p.consumed)
        decodedAhead.increment(by: s.decodedAhead - p.decodedAhead)
        for (type, n) in s.eventsByType where n != p.eventsByType[type, default: 0] {
            eventsByType[type]?.increment(by: n - p.eventsByType[type, default: 0])
        }
        for (reason, n) in s.deadLettersByReason where n != p.deadLettersByReason[reason, default: 0] {
            deadLetters[reason]?.increment(by: n - p.deadLettersByReason[reason, default: 0])
        }
        lateEvents.increment(by: s.deadLettersByReason[.late, default: 0] - p.deadLettersByReason[.late, default: 0])
        duplicates.increment(by: s.duplicates - p.duplicates)
        repsEvicted.increment(by: s.repsEvicted - p.repsEvicted)
        clientErrors.increment(by: max(0, Self.clientErrorCount(s) - Self.clientErrorCount(p)))
        clientRetries.increment(by: max(0, s.client.retries - p.client.retries))
        unknownTypes.increment(by: s.unknownTypes - p.unknownTypes)
        let finals = s.finalSummariesPublished - p.finalSummariesPublished
        summaries.final.increment(by: finals)
        revisedFinals.increment(by: s.revisedFinalsPublished - p.revisedFinalsPublished)
        summaries.provisional.increment(by: s.summariesPublished - p.summariesPublished - finals)
        for (kind, n) in s.windowsClosedByKind where n != p.windowsClosedByKind[kind, default: 0] {
            let counter =
                windowsClosed[kind]
                ?? Counter(
                    label: "salespulse_windows_closed_total", dimensions: [("window", kind)], factory: factory)
            windowsClosed[kind] = counter
            counter.increment(by: n - p.windowsClosedByKind[kind, default: 0])
        }
        for (rule, n) in s.alertsByRule where n != p.alertsByRule[rule, default: 0] {
            alerts[rule]?.increment(by: n - p.alertsByRule[rule, default: 0])
        }
        commits.increment(by: s.commits - p.commits)
        deliveryFailures.increment(by: s.deliveryFailures - p.deliveryFailures)
        assigned.record(s.assignedPartitions)
        if s.companyWatermark != .min { watermark.record(Double(s.companyWatermark) / 1000) }
        published = s
    }

    /// Consumer lag of one input partition: in offsets, and in event time behind the wall clock.
    func recordLag(_ tp: TopicPartition, messages: Int64, seconds: Double?) {
        lock.lock()
        defer { lock.unlock() }
        let dimensions = [("topic", tp.topic), ("partition", String(tp.partition))]
        var gauges =
            lag[tp] ?? (Gauge(label: "salespulse_consumer_lag_messages", dimensions: dimensions, factory: factory), nil)
        gauges.messages.record(messages)
        if let seconds {
            let gauge =
                gauges.seconds
                ?? Gauge(label: "salespulse_consumer_lag_seconds", dimensions: dimensions, factory: factory)
            gauge.record(seconds)
            gauges.seconds = gauge
        }
        lag[tp] = gauges
    }

    /// Removes a revoked partition's series: a lag frozen at its last value would read as a
    /// backlog nobody works on.
    func forgetLag(_ tp: TopicPartition) {
        lock.lock()
        defer { lock.unlock() }
        guard let gauges = lag.removeValue(forKey: tp) else { return }
        gauges.messages.destroy()
        gauges.seconds?.destroy()
    }

    /// The last restore of tasks from the changelog: how long it took and how much it read.
    func recordRestore(seconds: Double, records: Int) {
        restoreSeconds.record(seconds)
        restoredRecords.increment(by: records)
    }

    func recordReady(_ isReady: Bool) { ready.record(isReady ? 1 : 0) }

    /// Wall time from taking a message off the consumer to applying it to its shard.
    func recordLatency(nanoseconds: Int64) { latency.recordNanoseconds(nanoseconds) }

    /// Errors the stages' Kafka clients met, recovered from or not: error events, failed sends
    /// and reads, timed-out requests.
    static func clientErrorCount(_ s: PipelineStats) -> Int {
        s.clientErrors + s.client.transmitErrors + s.client.receiveErrors + s.client.requestTimeouts
    }
}
