import Kafka
import SalesKPI
import Synchronization

/// Counters of what the pipeline did, published by the pipeline thread for observers.
package struct PipelineStats: Sendable, Equatable {
    /// Raw input messages taken from the CRM topics (valid or not).
    package var consumed = 0
    package var eventsByType: [EventType: Int] = [:]
    package var deadLettersByReason: [RejectReason: Int] = [:]
    package var unknownTypes = 0
    package var duplicates = 0
    package var superseded = 0
    package var summariesPublished = 0
    package var finalSummariesPublished = 0
    /// Finals published again because a corrected deal changed them (among the finals).
    package var revisedFinalsPublished = 0
    /// In a bounded run: the stage had nothing left at its last commit (`Stage.isFinished`).
    package var finished = false
    package var alertsPublished = 0
    package var alertsByRule: [String: Int] = [:]
    package var windowsClosedByKind: [String: Int] = [:]
    package var commits = 0
    package var deliveryFailures = 0
    package var assignedPartitions = 0
    package var companyWatermark: EpochMillis = .min
    /// Events the route stage forwarded to the internal topic (less those of a failed commit).
    package var routed = 0
    /// Events the aggregate stage applied to its shards.
    package var aggregated = 0
    /// Raw events of those that the aggregate stage's decoding thread decoded (`DecodeAhead`).
    package var decodedAhead = 0
    package var changelogRecords = 0
    /// Progress records the route stage wrote into internal partitions.
    package var progressRecords = 0
    package var restoredRecords = 0
    package var restoredBytes = 0
    package var restoreMillis = 0
    /// Region summaries that reached the rollup after their company window was final.
    package var lateRollupSummaries = 0
    /// Rep scopes dropped after `processing.rep_idle_timeout` without an event.
    package var repsEvicted = 0
    /// Error events of the stages' Kafka clients (consumer errors, producer error events).
    package var clientErrors = 0
    /// What the stages' Kafka clients' statistics report (with `statistics.interval.ms` set).
    package var client = ClientStatistics()
    /// Most messages waiting in one stage's producer queue at any sample (every 100 ms).
    package var producerQueuePeak = 0
    /// Times a stage had to wait because its producer queue was full (back-pressure).
    package var producerQueueFullWaits = 0

    package init() {}

    /// Adds another stage's counters (gauges: the caller decides which stage's to keep).
    package mutating func add(_ o: PipelineStats) {
        consumed += o.consumed
        for (k, v) in o.eventsByType { eventsByType[k, default: 0] += v }
        for (k, v) in o.deadLettersByReason { deadLettersByReason[k, default: 0] += v }
        unknownTypes += o.unknownTypes
        duplicates += o.duplicates
        superseded += o.superseded
        summariesPublished += o.summariesPublished
        finalSummariesPublished += o.finalSummariesPublished
        revisedFinalsPublished += o.revisedFinalsPublished
        alertsPublished += o.alertsPublished
        for (k, v) in o.alertsByRule { alertsByRule[k, default: 0] += v }
        for (k, v) in o.windowsClosedByKind { windowsClosedByKind[k, default: 0] += v }
        commits += o.commits
        deliveryFailures += o.deliveryFailures
        assignedPartitions += o.assignedPartitions
        routed += o.routed
        producerQueuePeak = max(producerQueuePeak, o.producerQueuePeak)
        producerQueueFullWaits += o.producerQueueFullWaits
        aggregated += o.aggregated
        decodedAhead += o.decodedAhead
        changelogRecords += o.changelogRecords
        progressRecords += o.progressRecords
        restoredRecords += o.restoredRecords
        restoredBytes += o.restoredBytes
        restoreMillis += o.restoreMillis
        lateRollupSummaries += o.lateRollupSummaries
        repsEvicted += o.repsEvicted
        clientErrors += o.clientErrors
        client = client + o.client
    }

    package var deadLetters: Int { deadLettersByReason.values.reduce(0, +) }

    /// Everything read so far has gone through every stage (everything routed has been
    /// aggregated).
    package var isSettled: Bool { aggregated >= routed }
    package var events: Int { eventsByType.values.reduce(0, +) }
}

/// The lock-protected copy observers read; each stage's thread writes its own part a few times
/// a second, and counters of stages that were rebuilt after a failure are kept.
package final class StatsBox: Sendable {
    private struct Parts {
        var current: [String: PipelineStats] = [:]
        var retired = PipelineStats()
    }

    private let parts = Mutex(Parts())

    package init() {}

    /// All stages together; `companyWatermark` is the rollup's.
    package var snapshot: PipelineStats {
        parts.withLock { p in
            var total = p.retired
            for (_, s) in p.current { total.add(s) }
            total.companyWatermark = p.current["rollup"]?.companyWatermark ?? .min
            return total
        }
    }

    /// Stages whose last commit left nothing to do in a bounded run.
    package var finishedStages: Int { parts.withLock { $0.current.values.filter(\.finished).count } }

    /// One stage instance's counters (`aggregate`, `aggregate-2`, …), while it runs.
    package func stage(_ name: String) -> PipelineStats? { parts.withLock { $0.current[name] } }

    func publish(_ stage: String, _ stats: PipelineStats) { parts.withLock { $0.current[stage] = stats } }

    /// Keeps a broken stage's counters when it is rebuilt from scratch.
    func retire(_ stage: String) {
        parts.withLock { p in
            if var s = p.current.removeValue(forKey: stage) {
                s.assignedPartitions = 0
                p.retired.add(s)
            }
        }
    }
}
