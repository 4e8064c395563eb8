import SalesKPI
import Synchronization

/// Counters of what the pipeline did, published by the pipeline thread for observers.
package struct PipelineStats: Sendable, Equatable {
    /// Input messages taken from Kafka (valid or not).
    package var consumed = 0
    package var eventsByType: [EventType: Int] = [:]
    package var deadLettersByReason: [RejectReason: Int] = [:]
    package var unknownTypes = 0
    package var duplicates = 0
    package var superseded = 0
    package var summariesPublished = 0
    package var finalSummariesPublished = 0
    package var alertsPublished = 0
    package var alertsByRule: [String: Int] = [:]
    package var windowsClosedByKind: [String: Int] = [:]
    package var commits = 0
    package var deliveryFailures = 0
    /// Events decoded and waiting for event-time alignment.
    package var buffered = 0
    package var assignedPartitions = 0
    package var companyWatermark: EpochMillis = .min

    package init() {}

    package var deadLetters: Int { deadLettersByReason.values.reduce(0, +) }
    package var events: Int { eventsByType.values.reduce(0, +) }
}

/// The lock-protected copy observers read; the pipeline thread writes it a few times a second.
package final class StatsBox: Sendable {
    private let value = Mutex(PipelineStats())

    package init() {}

    package var snapshot: PipelineStats { value.withLock { $0 } }

    func publish(_ stats: PipelineStats) { value.withLock { $0 = stats } }
}
