import Foundation
import Kafka
import SalesKPI

/// Route stage: decodes and validates the raw CRM topics, dead-letters bad input, and forwards
/// valid events in event-time order to the internal topic keyed by region, so one region and
/// all its reps land in one partition.
final class RouteStage: StageLoop {
    var aligner: InputAligner
    var received: [TopicPartition: Int64] = [:]
    var lastEventTime: [TopicPartition: EpochMillis] = [:]
    /// Lanes last reported as overdue (reported once, not on every poll).
    var lastOverdue: Set<TopicPartition> = []
    /// Events forwarded since the last flush, per internal partition.
    var outbox: [Int32: RoutedBatch.Writer] = [:]
    /// The internal topic's partition count, asked of the cluster once.
    var internalPartitions: Int?

    init(pipeline: Pipeline) throws(KafkaError) {
        aligner = InputAligner(pauseThreshold: 50_000, maxIdleMillis: pipeline.config.maxTaskIdleMillis)
        super.init(pipeline: pipeline, kind: "route", slot: 0)
        try connect(
            inputs: pipeline.config.worker.topics.inputs, groupId: pipeline.config.worker.kafka.groupId + ".route",
            readHeaders: false)
    }

    override func take(_ message: ConsumedMessage) {
        counters.consumed += 1
        let tp = message.topicPartition
        received[tp] = message.offset + 1
        switch config.decoder.decode(message.value) {
        case .event(let event):
            // No consumedAt: latency is measured from the aggregate stage's own read.
            let pending = InputAligner.Pending(
                source: tp, event: event, offset: message.offset, position: message.offset,
                key: message.key.map { Array($0) }, raw: Array(message.value), consumedAt: 0, arrivedAt: pollStarted)
            // Only the lag metric reads it: a hash of the topic name per event saved without metrics.
            if pipeline.metrics != nil { lastEventTime[tp] = max(lastEventTime[tp] ?? .min, event.occurredAt) }
            if aligner.push(tp, pending) { consumer.pause([tp]) }
        case .unknownType:
            counters.unknownTypes += 1
        case .rejected(let rejection):
            counters.deadLettersByReason[rejection.reason, default: 0] += 1
            send(
                DeadLetter.message(
                    topic: topics.dlq, reason: rejection.reason, detail: rejection.detail, source: tp,
                    offset: message.offset,
                    key: message.key.map { Array($0) }, value: Array(message.value)))
        }
    }

    override func afterPoll(now: EpochMillis) {
        while let (tp, item, resume) = aligner.next(now: now, caughtUp: caughtUp) {
            forward(item)
            if resume { consumer.resume([tp]) }
        }
        flushAll()
        counters.buffered = aligner.buffered
        let overdue = aligner.takeOverdue()
        defer { lastOverdue = overdue }
        if !overdue.isEmpty, overdue != lastOverdue {
            logger.warning(
                "stopped waiting for input partitions whose leader gives no answer; their next events may be late",
                metadata: [LogKey.stage: "\(name)", LogKey.partitions: "\(overdue.sorted())"])
        }
    }

    private func caughtUp(_ tp: TopicPartition) -> Bool? { laneCaughtUp(tp, next: received[tp] ?? 0) }

    private func forward(_ item: InputAligner.Pending) {
        guard let partitions = internalPartitionCount() else { return }
        counters.routed += 1
        let p = RoutedBatch.partition(ofRegion: item.event.region, partitions: partitions)
        outbox[p, default: RoutedBatch.Writer()].append(
            source: item.source, offset: item.offset, key: item.key, raw: item.raw, event: item.event)
        if outbox[p]!.bytes.count >= RoutedBatch.flushBytes { flush(p) }
    }

    /// Sends every partition's batch; called before anything is committed.
    private func flushAll() {
        for p in outbox.keys.sorted() { flush(p) }
    }

    private func flush(_ p: Int32) {
        guard var writer = outbox[p], !writer.isEmpty else { return }
        outbox[p] = nil
        send(OutgoingMessage(topic: topics.internal, partition: p, key: nil, value: writer.take()))
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
        var offsets: [TopicPartition: Int64] = [:]
        for (tp, next) in received { offsets[tp] = aligner.firstBufferedOffset(tp) ?? next }
        return offsets
    }

    override func assigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        aligner.assign(partitions, now: pipeline.clock())
        return [:]
    }

    override func revoking(_ partitions: [TopicPartition]) {
        for item in aligner.revoke(partitions).sorted(by: { $0.event.occurredAt < $1.event.occurredAt }) {
            forward(item)
        }
        flushAll()
    }

    override func revoked(_ partitions: [TopicPartition]) {
        for tp in partitions {
            received[tp] = nil
            lastEventTime[tp] = nil
        }
    }

    override func drainAll() {
        for (_, item) in aligner.drain() { forward(item) }
        flushAll()
    }

    override func publishStats() {
        counters.buffered = aligner.buffered
        super.publishStats()
        guard let metrics = pipeline.metrics else { return }
        let now = pipeline.clock()
        for (tp, next) in received {
            let high = consumer.cachedHighWatermark(tp) ?? next
            metrics.recordLag(
                tp, messages: max(0, high - next), seconds: lastEventTime[tp].map { max(0, Double(now - $0) / 1000) })
        }
    }
}
