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
final class RouteStage: StageLoop {
    /// Next offset to read per input partition read from since its assignment: what commits store.
    var received: [TopicPartition: Int64] = [:]
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

    init(pipeline: Pipeline) throws(KafkaError) {
        progress = SourceTracker(idleTimeout: pipeline.config.settings.idleTimeoutMillis)
        progress.ends = pipeline.endOffsets
        try super.init(
            pipeline: pipeline, kind: "route", slot: 0, inputs: pipeline.config.worker.topics.inputs,
            groupId: pipeline.config.worker.kafka.groupId + ".route")
    }

    override func take(_ message: ConsumedMessage) {
        let tp = message.topicPartition
        if progress.isPastEnd(tp, offset: message.offset) { return }
        counters.consumed += 1
        received[tp] = message.offset + 1
        defer { progress.reached(tp, next: message.offset + 1) }
        switch config.decoder.decode(message.value, now: pollStarted) {
        case .event(let event):
            forward(event, source: tp, offset: message.offset, key: message.key, raw: message.value)
            progress.received(tp, now: pollStarted, forwarding: event.occurredAt)
        case .unknownType:
            progress.received(tp, now: pollStarted)
            counters.unknownTypes += 1
        case .rejected(let rejection):
            progress.received(tp, now: pollStarted)
            deadLetter(
                rejection, source: tp, offset: message.offset, key: message.key.map { Array($0) },
                value: Array(message.value))
        }
    }

    override func skip(_ message: ConsumedMessage) {
        counters.consumed += 1
        received[message.topicPartition] = message.offset + 1
        progress.received(message.topicPartition, now: pollStarted)
        progress.reached(message.topicPartition, next: message.offset + 1)
    }

    /// What polls forwarded goes out within `flushDelay`, batched, not held until the commit
    /// (at_least_once readers see it then; exactly_once ones at the commit, either way). A poll
    /// returns as soon as a message is there, so on a live feed it holds a few: sending each
    /// poll's events as their own records would multiply the records the broker handles.
    override func afterPoll(now: EpochMillis) {
        guard let since = outboxSince, now - since >= Self.flushDelay else { return }
        flushAll()
    }

    static let flushDelay: EpochMillis = 10
    /// When the oldest event not yet sent was forwarded.
    private var outboxSince: EpochMillis?

    override func tick(now: EpochMillis) {
        watch(&progress, now: now) { [self] tp in received[tp] ?? started[tp] ?? 0 }
    }

    override func isFinished() -> Bool { progress.allEnded && outbox.values.allSatisfy(\.isEmpty) }

    private func forward(
        _ event: SalesEvent, source: TopicPartition, offset: Int64, key: UnsafeRawBufferPointer?,
        raw: UnsafeRawBufferPointer
    ) {
        guard let partitions = internalPartitionCount() else { return }
        counters.routed += 1
        forwardedSinceCommit += 1
        let p = RoutedBatch.partition(ofRegion: event.region, partitions: partitions)
        if outboxSince == nil { outboxSince = pollStarted }
        outbox[p, default: RoutedBatch.Writer()].append(
            source: source, offset: offset, key: key.map { Array($0) }, raw: Array(raw), event: event)
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
        send(OutgoingMessage(topic: topics.internal, partition: p, key: nil, value: writer.take()))
    }

    /// Writes `entries` into every internal partition, after the events they cover.
    private func announce(_ entries: [SourceProgress]) {
        guard !entries.isEmpty, let partitions = internalPartitionCount() else { return }
        let value = ProgressRecord.encode(entries)
        for p in 0..<Int32(partitions) {
            send(OutgoingMessage(topic: topics.internal, partition: p, key: nil, value: value))
        }
        counters.progressRecords += partitions
    }

    /// nil (and the stage marked broken, to be rebuilt from its committed offsets, so nothing is
    /// lost) when the cluster cannot say.
    private func internalPartitionCount() -> Int? {
        if let internalPartitions { return internalPartitions }
        do throws(KafkaError) {
            let n = try output.producer.partitionCount(topics.internal)
            guard n > 0 else { throw KafkaError(code: 0, message: "\(topics.internal) has no partitions") }
            internalPartitions = n
            return n
        } catch {
            logger.error(
                "cannot learn the internal topic's partitions",
                metadata: [LogKey.stage: "\(name)", LogKey.error: "\(error)"])
            broken = error
            return nil
        }
    }

    override func prepareCommit() -> [TopicPartition: Int64] {
        flushAll()
        announce(progress.takeChanges())
        return received
    }

    override func transactionEnded(committed: Bool) {
        if !committed { counters.routed -= forwardedSinceCommit }
        forwardedSinceCommit = 0
    }

    override func assigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        // Where reading starts, so a partition already read to its end can be told caught up
        // without a message. Unknown (the coordinator does not answer): from 0, which only
        // delays idleness until a message arrives.
        let committed = (try? consumer.committed(partitions)) ?? [:]
        for tp in partitions { started[tp] = max(0, committed[tp] ?? 0) }
        progress.assign(partitions, now: pipeline.clock())
        for tp in partitions { progress.reached(tp, next: started[tp] ?? 0) }
        return [:]
    }

    override func revoking(_ partitions: [TopicPartition]) {
        flushAll()
        // Committed with the revoke: until a new owner announces them, these hold windows open.
        announce(progress.revoke(partitions) + progress.takeChanges())
    }

    override func revoked(_ partitions: [TopicPartition]) {
        for tp in partitions {
            received[tp] = nil
            started[tp] = nil
        }
    }

    override func drainAll() {
        flushAll()
        // A clean stop hands the partitions over like a revoke.
        announce(progress.revoke(progress.sources.keys.sorted()))
    }

    override func publishStats() {
        super.publishStats()
        reportLag(received) { progress.sources[$0]?.eventTime }
    }
}
