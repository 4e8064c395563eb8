import Kafka
import SalesKPI

/// What the owner of input partitions knows of each (the route stage, or the aggregate stage
/// when it reads the input itself): how far in event time it has forwarded it and whether it is
/// idle. A value the stage drives; it asks nothing of Kafka itself.
///
/// A source is idle once it has had no message for `idleTimeout` of wall time and its leader has
/// confirmed it is read to the end (`idleCandidates`, then `markIdle`); any message makes it
/// active again. A source that changes owner is announced active by the old owner on revoke:
/// while it has none, windows wait for it (docs/guarantees.md, event time).
struct SourceTracker {
    struct Source {
        var eventTime: EpochMillis = .min
        /// Wall-clock time of the last message (or of the assignment).
        var lastMessage: EpochMillis
        var idle = false
        var ended = false
    }

    let idleTimeout: Int64
    /// The end offset of each input partition in a bounded run (`salespulse run --until-end`).
    var ends: [TopicPartition: Int64]?
    private(set) var sources: [TopicPartition: Source] = [:]
    /// Forgotten whenever a partition is assigned or revoked.
    private var last = LastPartitionIndex<Source>()
    /// Something changed since the last `takeChanges()`.
    private(set) var changed = false

    init(idleTimeout: Int64) { self.idleTimeout = idleTimeout }

    mutating func assign(_ partitions: [TopicPartition], now: EpochMillis) {
        last.forget()
        for tp in partitions where sources[tp] == nil {
            sources[tp] = Source(lastMessage: now)
            changed = true
        }
    }

    /// Drops the partitions and returns their last progress, announced as not idle.
    mutating func revoke(_ partitions: [TopicPartition]) -> [SourceProgress] {
        last.forget()
        var out: [SourceProgress] = []
        for tp in partitions.sorted() {
            guard let s = sources.removeValue(forKey: tp) else { continue }
            out.append(SourceProgress(source: tp, eventTime: s.eventTime, idle: false))
        }
        return out
    }

    /// Any message from the partition, valid or not: it is not idle. `eventTime` is that of the
    /// event it carried, when one was forwarded (`forwarded`). One lookup at most, changed in
    /// place: this runs for every input message, and each lookup hashes the topic's name.
    mutating func received(_ tp: TopicPartition, now: EpochMillis, forwarding eventTime: EpochMillis? = nil) {
        guard let i = last.index(of: tp, in: sources) else { return }
        if !sources.values[i].ended {
            sources.values[i].lastMessage = now
            if sources.values[i].idle {
                sources.values[i].idle = false
                changed = true
            }
        }
        if let eventTime { forwarded(at: i, eventTime) }
    }

    /// An event forwarded from the partition.
    mutating func forwarded(_ tp: TopicPartition, eventTime: EpochMillis) {
        guard let i = last.index(of: tp, in: sources) else { return }
        forwarded(at: i, eventTime)
    }

    private mutating func forwarded(at i: Dictionary<TopicPartition, Source>.Index, _ eventTime: EpochMillis) {
        guard eventTime > sources.values[i].eventTime else { return }
        sources.values[i].eventTime = eventTime
        changed = true
    }

    /// In a bounded run, marks the source ended once `next` (the next offset to read) reaches its
    /// recorded end. A partition without a recorded end (created later) ends where it starts.
    mutating func reached(_ tp: TopicPartition, next: Int64) {
        guard let ends, let s = sources[tp], !s.ended, next >= ends[tp] ?? 0 else { return }
        sources[tp]!.ended = true
        sources[tp]!.idle = true
        changed = true
    }

    /// Whether a message lies past its partition's end in a bounded run: left for the next run,
    /// neither taken nor committed.
    func isPastEnd(_ tp: TopicPartition, offset: Int64) -> Bool {
        guard let ends else { return false }
        return offset >= ends[tp] ?? 0
    }

    /// Whether every owned source has ended (vacuously, when none is owned).
    var allEnded: Bool { sources.values.allSatisfy(\.ended) }

    /// Sources quiet for the idle timeout and not idle yet: the caller asks their leaders.
    func idleCandidates(now: EpochMillis) -> [TopicPartition] {
        sources.filter { !$0.value.idle && now - $0.value.lastMessage >= idleTimeout }.keys.sorted()
    }

    mutating func markIdle(_ tp: TopicPartition) {
        guard sources[tp]?.idle == false else { return }
        sources[tp]!.idle = true
        changed = true
    }

    /// Every owned source's progress.
    var all: [SourceProgress] {
        sources.keys.sorted().map {
            SourceProgress(
                source: $0, eventTime: sources[$0]!.eventTime, idle: sources[$0]!.idle, ended: sources[$0]!.ended)
        }
    }

    /// Every owned source's progress if anything changed since the last call, else nothing.
    mutating func takeChanges() -> [SourceProgress] {
        guard changed else { return [] }
        changed = false
        return all
    }
}
