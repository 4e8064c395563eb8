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
            let pending = InputAligner.Pending(
                source: tp, event: event, offset: message.offset, position: message.offset,
                key: message.key.map { Array($0) },
                raw: Array(message.value), consumedAt: DispatchTime.now().uptimeNanoseconds, arrivedAt: pollStarted)
            lastEventTime[tp] = max(lastEventTime[tp] ?? .min, event.occurredAt)
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
        counters.routed += 1
        send(
            OutgoingMessage(
                topic: topics.internal, key: Array(item.event.region.utf8), value: item.raw,
                headers: [
                    ("source.topic", Array(item.source.topic.utf8)),
                    ("source.partition", Array(String(item.source.partition).utf8)),
                    ("source.offset", Array(String(item.offset).utf8)),
                ]))
    }

    override func prepareCommit() -> [TopicPartition: Int64] {
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
    }

    override func revoked(_ partitions: [TopicPartition]) {
        for tp in partitions {
            received[tp] = nil
            lastEventTime[tp] = nil
        }
    }

    override func drainAll() {
        for (_, item) in aligner.drain() { forward(item) }
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
