import Kafka
import SalesKPI

/// A task's view of its sources: the latest progress announced for each input partition that
/// can feed it, from which its event time follows (docs/guarantees.md, event time).
///
/// Event time is the minimum over the sources that are not idle. A source never heard of holds
/// it (`waiting`): the full set comes from the input topics' metadata, not from what arrived.
/// When every source is idle, event time is the furthest any reached, and the shard may move on
/// with the wall clock from there (`allIdleSince`).
struct TaskProgress {
    enum State: Equatable {
        /// Some active source has announced nothing yet.
        case waiting
        /// The minimum over the active sources.
        case at(EpochMillis)
        /// Every source is idle; the furthest event time any reached.
        case idle(EpochMillis)
        /// Every source has ended (a bounded run read each to its recorded end); the furthest
        /// event time any reached.
        case ended(EpochMillis)
    }

    private(set) var sources: [TopicPartition] = []
    private(set) var recorded: [TopicPartition: SourceProgress] = [:]
    /// Wall-clock time since which every source has been idle.
    private(set) var allIdleSince: EpochMillis?

    init(sources: [TopicPartition] = []) { self.sources = sources.sorted() }

    /// The input partitions that feed the task (from metadata; partitions may be added).
    mutating func setSources(_ partitions: [TopicPartition], now: EpochMillis) {
        sources = Set(partitions).sorted()
        noteIdle(now: now)
    }

    /// Takes announced progress. Event time per source only grows: a new owner re-announcing
    /// from an earlier point (at-least-once re-sends) does not take it back.
    mutating func record(_ entries: [SourceProgress], now: EpochMillis) {
        for e in entries {
            var merged = e
            if let old = recorded[e.source] { merged.eventTime = max(old.eventTime, e.eventTime) }
            recorded[e.source] = merged
        }
        noteIdle(now: now)
    }

    var state: State {
        var lowest = EpochMillis.max
        var furthest = EpochMillis.min
        var active = false
        var allEnded = true
        for tp in sources {
            guard let p = recorded[tp] else { return .waiting }
            furthest = max(furthest, p.eventTime)
            allEnded = allEnded && p.ended
            if p.idle || p.ended { continue }
            active = true
            if p.eventTime == .min { return .waiting }
            lowest = min(lowest, p.eventTime)
        }
        if sources.isEmpty { return .waiting }
        if allEnded { return .ended(furthest) }
        return active ? .at(lowest) : .idle(furthest)
    }

    /// The event time to advance the shard to, if any.
    var eventTime: EpochMillis? {
        switch state {
        case .waiting: nil
        case .at(let t), .idle(let t), .ended(let t): t == .min ? nil : t
        }
    }

    private mutating func noteIdle(now: EpochMillis) {
        if case .idle = state {
            if allIdleSince == nil { allIdleSince = now }
        } else {
            allIdleSince = nil
        }
    }

    /// Everything recorded, for the changelog.
    var entries: [SourceProgress] { recorded.keys.sorted().map { recorded[$0]! } }

    /// Restored from the changelog.
    init(restoring entries: [SourceProgress]) {
        for e in entries { recorded[e.source] = e }
    }
}
