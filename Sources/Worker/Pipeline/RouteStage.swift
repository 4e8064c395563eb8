import Foundation
import Kafka
import SalesKPI

/// Route stage: decodes and validates the raw CRM topics, dead-letters bad input, and forwards
/// valid events as they come to the internal topic keyed by region, so one region and all its
/// reps land in one partition.
///
/// With every commit it writes into every internal partition how far in event time it has
/// forwarded each input partition it owns (`ProgressRecord`): tasks take the minimum over all
/// input partitions, so no instance, however far ahead, can make another's events late
/// (docs/guarantees.md, event time).
final class RouteStage: Stage {
    /// Next offset to read per input partition read from since its assignment: what commits store.
    var received = ReadPositions()
    /// Where reading started per owned partition (its committed offset), for idleness checks
    /// before anything is read; never committed, so an unanswered lookup cannot rewind anything.
    var started: [TopicPartition: Int64] = [:]
    var progress: SourceTracker
    /// Events forwarded since the last flush, per internal partition.
    var outbox: [Int32: RoutedBatch.Writer] = [:]
    /// The internal topic's partition count, asked of the cluster once.
    var internalPartitions: Int?
    /// Events forwarded since the last commit: no longer counted as routed if that commit fails
    /// (its records may never reach the internal topic; the rebuilt stage forwards them again).
    var forwardedSinceCommit = 0

    let io: StageIO

    init(io: StageIO) {
        self.io = io
        progress = SourceTracker(idleTimeout: io.config.settings.idleTimeoutMillis)
        progress.ends = io.pipeline.endOffsets
    }

    func take(_ message: ConsumedMessage) {
        let tp = message.topicPartition
        if progress.isPastEnd(tp, offset: message.offset) { return }
        io.counters.consumed += 1
        received.read(tp, at: message.offset)
        defer { progress.reached(tp, next: message.offset + 1) }
        switch io.config.decoder.decode(message.value, now: io.pollStarted) {
        case .event(let event):
            forward(event, source: tp, offset: message.offset, key: message.key, raw: message.value)
            progress.received(tp, now: io.pollStarted, forwarding: event.occurredAt)
        case .unknownType:
            progress.received(tp, now: io.pollStarted)
            io.counters.unknownTypes += 1
        case .rejected(let rejection):
            progress.received(tp, now: io.pollStarted)
            io.deadLetter(
                rejection, source: tp, offset: message.offset, key: message.key.map { Array($0) },
                value: Array(message.value))
        }
    }

    func skip(_ message: ConsumedMessage) {
        io.counters.consumed += 1
        received.read(message.topicPartition, at: message.offset)
        progress.received(message.topicPartition, now: io.pollStarted)
        progress.reached(message.topicPartition, next: message.offset + 1)
    }

    /// What polls forwarded goes out within `flushDelay`, batched, not held until the commit
    /// (at_least_once readers see it then; exactly_once ones at the commit, either way). A poll
    /// returns as soon as a message is there, so on a live feed it holds a few: sending each
    /// poll's events as their own records would multiply the records the broker handles.
    func afterPoll(now: EpochMillis) {
        guard let since = outboxSince, now - since >= Self.flushDelay else { return }
        flushAll()
    }

    static let flushDelay: EpochMillis = 10
    /// When the oldest event not yet sent was forwarded.
    private var outboxSince: EpochMillis?

    func tick(now: EpochMillis) {
        io.watch(&progress, now: now) { [self] tp in received[tp] ?? started[tp] ?? 0 }
    }

    func isFinished() -> Bool { progress.allEnded && outbox.values.allSatisfy(\.isEmpty) }

    private func forward(
        _ event: SalesEvent, source: TopicPartition, offset: Int64, key: UnsafeRawBufferPointer?,
        raw: UnsafeRawBufferPointer
    ) {
        guard let partitions = internalPartitionCount() else { return }
        io.counters.routed += 1
        forwardedSinceCommit += 1
        let p = RoutedBatch.partition(ofRegion: event.region, partitions: partitions)
        if outboxSince == nil { outboxSince = io.pollStarted }
        outbox[p, default: RoutedBatch.Writer()].append(
            source: source, offset: offset, key: key, raw: raw, event: event)
        if outbox[p, default: RoutedBatch.Writer()].bytes.count >= RoutedBatch.flushBytes { flush(p) }
    }

    /// Sends every partition's batch; called before anything is committed.
    private func flushAll() {
        for p in outbox.keys.sorted() { flush(p) }
        outboxSince = nil
    }

    private func flush(_ p: Int32) {
        guard var writer = outbox[p], !writer.isEmpty else { return }
        outbox[p] = nil
        io.send(OutgoingMessage(topic: io.topics.internal, partition: p, key: nil, value: writer.take()))
    }

    /// Writes `entries` into every internal partition, after the events they cover.
    private func announce(_ entries: [SourceProgress]) {
        guard !entries.isEmpty, let partitions = internalPartitionCount() else { return }
        let value = ProgressRecord.encode(entries)
        for p in 0..<Int32(partitions) {
            io.send(OutgoingMessage(topic: io.topics.internal, partition: p, key: nil, value: value))
        }
        io.counters.progressRecords += partitions
    }

    /// nil (and the stage marked broken, to be rebuilt from its committed offsets, so nothing is
    /// lost) when the cluster cannot say.
    private func internalPartitionCount() -> Int? {
        if let internalPartitions { return internalPartitions }
        do throws(KafkaError) {
            let n = try io.output.producer.partitionCount(io.topics.internal)
            guard n > 0 else { throw KafkaError(code: 0, message: "\(io.topics.internal) has no partitions") }
            internalPartitions = n
            return n
        } catch {
            io.logger.error(
                "cannot learn the internal topic's partitions",
                metadata: [LogKey.stage: "\(io.name)", LogKey.error: "\(error)"])
            io.broken = error
            return nil
        }
    }

    func prepareCommit() -> [TopicPartition: Int64] {
        flushAll()
        announce(progress.takeChanges())
        return received.next
    }

    func transactionEnded(committed: Bool) {
        if !committed { io.counters.routed -= forwardedSinceCommit }
        forwardedSinceCommit = 0
    }

    func assigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        // Where reading starts, so a partition already read to its end can be told caught up
        // without a message. Unknown (the coordinator does not answer): from 0, which only
        // delays idleness until a message arrives.
        let committed = (try? io.consumer.committed(partitions)) ?? [:]
        for tp in partitions { started[tp] = max(0, committed[tp] ?? 0) }
        progress.assign(partitions, now: io.pipeline.clock())
        for tp in partitions { progress.reached(tp, next: started[tp] ?? 0) }
        return [:]
    }

    func revoking(_ partitions: [TopicPartition]) {
        flushAll()
        // Committed with the revoke: until a new owner announces them, these hold windows open.
        announce(progress.revoke(partitions) + progress.takeChanges())
    }

    func revoked(_ partitions: [TopicPartition]) {
        for tp in partitions {
            received[tp] = nil
            started[tp] = nil
        }
    }

    func drainAll() {
        flushAll()
        // A clean stop hands the partitions over like a revoke.
        announce(progress.revoke(progress.sources.keys.sorted()))
    }

    func reportLag() {
        io.reportLag(received.next) { progress.sources[$0]?.eventTime }
    }
}
