import Foundation
import Kafka
import Logging
import SalesKPI

/// A stage's side of Kafka, created by its runner and shared with the stage: the consumer, the
/// output, the counters, and the ways a stage sends, dead-letters and publishes. Used only by the
/// thread that owns the stage.
final class StageIO {
    let pipeline: Pipeline
    /// The stage kind, numbered from the second instance on (`aggregate-2`) when the process runs
    /// several (`processing.aggregate_threads`): the key of its stats, its thread and its
    /// transactional id, which must stay the same when the instance is rebuilt.
    let name: String
    let consumer: KafkaConsumer
    let output: StageOutput
    var counters = PipelineStats()
    /// `counters.eventsByType` as it grows, added to it at each `publishStats`.
    var eventCounts = EventTypeCounts()
    /// The wall clock when the current poll began: precise enough for idle timers, and read once
    /// per batch instead of once per event.
    var pollStarted: EpochMillis = 0
    /// Set when this transaction holds a final summary or an alert: what dashboards and sales
    /// ops wait for; the runner then commits early (`StageRunner.urgentCommitSpacing`).
    var urgent = false
    /// Set when a send, a lookup, a restore or a commit failed in a way that needs the stage
    /// rebuilt from its changelog.
    var broken: KafkaError?
    /// Set with `broken` when a restore refused the changelog's records themselves: written under
    /// other settings, or malformed. Every rebuild reads the same records again, so a bounded run
    /// ends there instead of waiting for an operator (`Pipeline`).
    var refusedState = false
    /// What a dead letter may carry under the producer's `message.max.bytes`.
    let deadLetterCaps: (value: Int, key: Int)
    var logger: Logger { pipeline.logger }
    var config: ResolvedConfig { pipeline.config }
    var topics: WorkerConfig.TopicsSection { pipeline.config.worker.topics }

    /// Set by a stage that encodes its summaries on another thread (the aggregate stage).
    var summaryEncoder: SummaryEncoder?
    /// The aggregate stage's decoding thread, when it reads raw events (`DecodeAhead`).
    var decodeAhead: DecodeAhead?
    /// Summaries published since they were last handed to the encoder.
    private var unsubmitted: [Summary] = []
    /// Errors the consumer reported through `poll` (a broker unreachable, a fetch that failed).
    var consumerErrors = 0
    /// When each input partition was last confirmed with its leader, and its ends then.
    private var laneEnds: [TopicPartition: (at: EpochMillis, low: Int64, high: Int64)] = [:]

    /// Connects: the consumer in `groupId` for `kind`'s inputs, and the output producer.
    /// Rebalance events go to `onRebalance`, which only runs inside `consumer.poll`/`close`.
    init(
        pipeline: Pipeline, kind: StageKind, slot: Int,
        onRebalance: @escaping (RebalanceEvent) -> [TopicPartition: Int64]
    ) throws(KafkaError) {
        self.pipeline = pipeline
        name = slot == 0 ? kind.name : "\(kind.name)-\(slot + 1)"
        let worker = pipeline.config.worker
        let groupId = kind.groupId(worker)
        let producerProperties = KafkaProperties.producer(worker.kafka, bootstrap: pipeline.bootstrap)
        deadLetterCaps = DeadLetter.caps(
            producerLimit: producerProperties["message.max.bytes"].flatMap { Int($0) } ?? 1_000_000)
        var properties = KafkaProperties.consumer(worker.kafka, bootstrap: pipeline.bootstrap, groupId: groupId)
        properties["isolation.level"] = "read_committed"
        consumer = try KafkaConsumer(
            properties: properties, maxBatch: worker.processing.pollBatch, onRebalance: onRebalance)
        output = try StageOutput(
            properties: producerProperties,
            transactionalId: worker.processing.exactlyOnce ? "\(groupId)-\(name)-\(pipeline.instanceId)" : nil)
        lookUpOutputTopics()
        try consumer.subscribe(kind.inputs(worker))
    }

    /// librdkafka learns a topic's partitions on its first record, then asks for them at its
    /// next topic scan, up to a second later: the first alert or final would wait for it.
    /// Asked now, before any record is due; briefly, and no further after a failure, so an
    /// unreachable cluster does not hold the start up (the first record then waits as before).
    private func lookUpOutputTopics() {
        do throws(KafkaError) {
            for topic in [
                topics.internal, topics.changelog, topics.summaries, topics.alerts, topics.dlq, topics.rollup,
                topics.rollupChangelog,
            ] {
                _ = try output.producer.partitionCount(topic, timeoutMs: 1_000)
            }
        } catch {
            logger.debug("output topics not looked up", metadata: [LogKey.error: "\(error)"])
        }
    }

    func send(_ message: OutgoingMessage) {
        do {
            try output.send(message)
        } catch {
            logger.error("cannot produce", metadata: [LogKey.stage: "\(name)", LogKey.error: "\(error)"])
            counters.deliveryFailures += 1
            broken = error
        }
    }

    /// A restore of `what` failed: the stage is left to be rebuilt, since starting from nothing
    /// would silently lose state. Kafka's errors (a changelog it could not read) may pass; any
    /// other is about the records read (`refusedState`).
    func restoreFailed(_ what: String, _ error: any Error, metadata: Logger.Metadata = [:]) {
        logger.error(
            "restore failed",
            metadata: metadata.merging([LogKey.stage: "\(name)", LogKey.error: "\(error)"]) { $1 })
        broken = KafkaError(code: 0, message: "restore of \(what) failed: \(error)", isRetriable: true)
        refusedState = !(error is KafkaError)
    }

    /// Counts and sends a dead letter, cut to what the producer may send.
    func deadLetter(_ rejection: Rejection, source: TopicPartition, offset: Int64, key: [UInt8]?, value: [UInt8]) {
        counters.deadLettersByReason[rejection.reason, default: 0] += 1
        send(
            DeadLetter.message(
                topic: topics.dlq, reason: rejection.reason, detail: rejection.detail, source: source, offset: offset,
                key: key, value: value, caps: deadLetterCaps))
    }

    /// Dead-letters a whole input record as `unprocessable`.
    func deadLetterUnprocessable(_ message: ConsumedMessage, detail: String) {
        deadLetter(
            Rejection(.unprocessable, detail), source: message.topicPartition, offset: message.offset,
            key: message.key.map { Array($0) }, value: Array(message.value))
    }

    /// Hands the summaries published since the last call to the encoder and produces what it
    /// has encoded so far; with `wait`, everything (before a commit).
    func sendEncodedSummaries(wait: Bool) {
        guard let encoder = summaryEncoder else { return }
        if !unsubmitted.isEmpty {
            encoder.submit(unsubmitted)
            unsubmitted = []
        }
        for record in encoder.take(wait: wait) {
            send(OutgoingMessage(topic: topics.summaries, key: record.key, value: record.value))
        }
    }

    /// Publishes a summary or an alert to its output topic, counts it and tells the hooks.
    func publish(_ effect: ShardEffect) {
        let settings = config.settings
        switch effect {
        case .summary(let summary):
            if summaryEncoder != nil {
                unsubmitted.append(summary)
                // Handed over in slices within a long poll too, so encoding overlaps with it and
                // encoded records do not pile up until it ends.
                if unsubmitted.count >= 256 { sendEncodedSummaries(wait: false) }
            } else {
                send(
                    OutgoingMessage(
                        topic: topics.summaries, key: summary.scope.idBytes,
                        value: summary.json(currency: settings.reportingCurrency, calendar: settings.calendar)))
            }
            counters.summariesPublished += 1
            if summary.final {
                counters.finalSummariesPublished += 1
                if summary.revised { counters.revisedFinalsPublished += 1 }
                urgent = true
            }
            pipeline.hooks.onSummary(summary)
        case .alert(let alert):
            send(
                OutgoingMessage(
                    topic: topics.alerts, key: alert.scope.idBytes,
                    value: alert.json(detectedAt: pipeline.clock(), calendar: settings.calendar)))
            counters.alertsPublished += 1
            urgent = true
            counters.alertsByRule[alert.rule.rawValue, default: 0] += 1
            logger.notice(
                "alert", metadata: [LogKey.rule: "\(alert.rule.rawValue)", LogKey.scope: "\(alert.scope.id)"])
            pipeline.hooks.onAlert(alert)
        case .customers:
            // Internal: only the aggregate stage's rollup reports carry it.
            break
        }
    }

    /// Marks idle the sources quiet for the idle timeout whose leader confirms there is nothing
    /// more to read past `next` (the stage's next offset of each), and in a bounded run marks
    /// ended those whose position has reached their end.
    func watch(_ sources: inout SourceTracker, now: EpochMillis, next: (TopicPartition) -> Int64) {
        for tp in sources.idleCandidates(now: now) where laneCaughtUp(tp, next: next(tp)) == true {
            sources.markIdle(tp)
        }
        if sources.ends != nil { noteEnds(&sources, next: next) }
    }

    /// Marks ended the sources whose position has reached their end: the consumer's position,
    /// which moves past transaction markers no message shows, or `next`.
    private func noteEnds(_ sources: inout SourceTracker, next: (TopicPartition) -> Int64) {
        let open = sources.sources.filter { !$0.value.ended }.keys
        guard !open.isEmpty else { return }
        let positions = consumer.positions(Array(open))
        for tp in open { sources.reached(tp, next: max(next(tp), positions[tp] ?? 0)) }
    }

    /// Whether an input partition has been read up to everything it holds, asked of the
    /// partition's leader at most once a second: librdkafka's cached end of a partition is only
    /// as fresh as its last fetch, and while a leader is unreachable that can be far behind.
    /// nil when the leader does not answer (the partition is then never taken for idle).
    func laneCaughtUp(_ tp: TopicPartition, next: Int64) -> Bool? {
        if let known = laneEnds[tp], pollStarted - known.at < 1_000 { return max(next, known.low) >= known.high }
        // A generous timeout: with slow round trips a short one would make every partition unknown.
        guard let marks = try? consumer.watermarks(tp, timeoutMs: 2_000) else { return nil }
        laneEnds[tp] = (pollStarted, marks.low, marks.high)
        return max(next, marks.low) >= marks.high
    }

    /// Publishes the counters, with the clients' own view of the brokers: retries and errors
    /// they recovered from.
    func publishStats() {
        eventCounts.drain(into: &counters.eventsByType)
        counters.clientErrors = consumerErrors + output.producer.errorEvents
        counters.client = consumer.statistics + output.producer.statistics
        pipeline.stats.publish(name, counters)
    }

    /// Consumer lag of the partitions read: offsets behind the partition's end, and the newest
    /// event read behind the wall clock where the stage knows event times (`.min`: none read
    /// yet). The consumer's position has moved past transaction markers, so a topic written in
    /// transactions, read to its end, shows 0 rather than 1.
    func reportLag(_ next: [TopicPartition: Int64], newestEvent: (TopicPartition) -> EpochMillis?) {
        guard let metrics = pipeline.metrics, !next.isEmpty else { return }
        let now = pipeline.clock()
        let positions = consumer.positions(Array(next.keys))
        for (tp, taken) in next {
            let offset = max(taken, positions[tp] ?? taken)
            let high = consumer.cachedHighWatermark(tp) ?? offset
            let newest = newestEvent(tp).flatMap { $0 == .min ? nil : $0 }
            metrics.recordLag(
                tp, messages: max(0, high - offset), seconds: newest.map { max(0, Double(now - $0) / 1000) })
        }
    }
}
