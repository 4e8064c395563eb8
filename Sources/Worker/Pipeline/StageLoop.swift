import Foundation
import Kafka
import Logging
import SalesKPI

/// The shared shape of the three stages: one thread owns a consumer and a `StageOutput`,
/// polls, lets the stage handle messages, ticks on the wall clock, and commits at the commit
/// interval. Rebalance callbacks run synchronously inside `poll` on the same thread.
///
/// Subclasses override the hooks; nothing else touches their state.
class StageLoop {
    let pipeline: Pipeline
    /// The stage kind, numbered from the second instance on (`aggregate-2`) when the process runs
    /// several (`processing.aggregate_threads`): the key of its stats, its thread and its
    /// transactional id, which must stay the same when the instance is rebuilt.
    let name: String
    let consumer: KafkaConsumer
    let output: StageOutput
    var counters = PipelineStats()
    var lastTick: EpochMillis = 0
    var lastCommit: EpochMillis = 0
    /// Set when this transaction holds a final summary or an alert: what dashboards and sales
    /// ops wait for. Once the stage has less than a poll's worth of fetched input in hand (it
    /// has caught up), it commits then instead of at the next interval, so each hop adds a
    /// commit's round trip, not up to a commit interval (docs/guarantees.md, exactly-once).
    var urgent = false
    /// Urgent commits are at least this far apart, so a backlog's tail closing windows in every
    /// poll does not commit in every poll.
    static let urgentCommitSpacing: EpochMillis = 25
    /// The wall clock when the current poll began: precise enough for idle timers, and read once
    /// per batch instead of once per event.
    var pollStarted: EpochMillis = 0
    /// Messages to take in the next poll (`poll_batch` at most): a stage whose messages each hold
    /// many events takes fewer, so one poll stays short and commits, ticks and revocations are
    /// not held up behind it.
    var pollLimit: Int { config.worker.processing.pollBatch }
    /// Set when a commit failed in a way that needs the stage rebuilt from its changelog.
    var broken: KafkaError?
    /// Taking one input record per transaction, to find one the cluster refuses (`PoisonHunt`).
    var isolating = false
    /// Records to dead-letter as `unprocessable` instead of taking them (`PoisonHunt`).
    var condemned: [PoisonHunt.Position: KafkaError] = [:]
    /// What this run tells the `PoisonHunt` when it ends.
    private(set) var report = PoisonHunt.RunReport()
    /// Input records taken since the last commit: how many, and which (while isolating).
    private var takenSinceCommit = 0
    private var isolatedPositions: [PoisonHunt.Position] = []
    private var condemnedTaken: Set<PoisonHunt.Position> = []
    /// What a dead letter may carry under the producer's `message.max.bytes`.
    let deadLetterCaps: (value: Int, key: Int)
    var logger: Logger { pipeline.logger }
    var config: ResolvedConfig { pipeline.config }
    var topics: WorkerConfig.TopicsSection { pipeline.config.worker.topics }

    private final class Link {
        weak var loop: StageLoop?
    }

    /// Connects: the consumer in `groupId` subscribed to `inputs`, and the output producer.
    init(pipeline: Pipeline, kind: String, slot: Int, inputs: [String], groupId: String) throws(KafkaError) {
        self.pipeline = pipeline
        let name = slot == 0 ? kind : "\(kind)-\(slot + 1)"
        self.name = name
        let kafka = pipeline.config.worker.kafka
        let producerProperties = KafkaProperties.producer(kafka, bootstrap: pipeline.bootstrap)
        deadLetterCaps = DeadLetter.caps(
            producerLimit: producerProperties["message.max.bytes"].flatMap { Int($0) } ?? 1_000_000)
        // Rebalance callbacks only run inside `poll`, once this init has returned.
        let link = Link()
        var properties = KafkaProperties.consumer(kafka, bootstrap: pipeline.bootstrap, groupId: groupId)
        properties["isolation.level"] = "read_committed"
        consumer = try KafkaConsumer(properties: properties, maxBatch: pipeline.config.worker.processing.pollBatch) {
            event in link.loop?.rebalanced(event) ?? [:]
        }
        let exactlyOnce = pipeline.config.worker.processing.exactlyOnce
        output = try StageOutput(
            properties: producerProperties,
            transactionalId: exactlyOnce ? "\(groupId)-\(name)-\(pipeline.instanceId)" : nil)
        // librdkafka learns a topic's partitions on its first record, then asks for them at its
        // next topic scan, up to a second later: the first alert or final would wait for it.
        // Asked now, before any record is due; briefly, and no further after a failure, so an
        // unreachable cluster does not hold the start up (the first record then waits as before).
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
        link.loop = self
        try consumer.subscribe(inputs)
        lastCommit = pipeline.clock()
    }

    /// Runs until the pipeline stops or the stage breaks; returns whether it broke.
    func run() -> Bool {
        logger.info("stage started", metadata: [LogKey.stage: "\(name)"])
        if output.commitsAgainForMock {
            logger.info(
                "broker is librdkafka's mock cluster: offsets are committed again after each transaction",
                metadata: [LogKey.stage: "\(name)"])
        }
        pipeline.health.stageStarted(name)
        while !pipeline.isStopping, broken == nil {
            pollStarted = pipeline.clock()
            consumer.poll(
                timeoutMs: 100, limit: isolating ? 1 : pollLimit,
                onError: { [self] in
                    consumerErrors += 1
                    logger.warning("consumer error", metadata: [LogKey.stage: "\(name)", LogKey.error: "\($0)"])
                }
            ) { [self] message in receive(message) }
            let now = pipeline.clock()
            afterPoll(now: now)
            if now - lastTick >= 100 {
                lastTick = now
                // A loop that gets here takes whatever input it has: it is moving. One blocked
                // in a call (a produce waiting for room, a commit) stops reporting.
                pipeline.health.stageProgressed(name)
                tick(now: now)
                output.producer.pollDeliveries(timeoutMs: 0)
                counters.producerQueuePeak = max(counters.producerQueuePeak, output.producer.outstanding)
                counters.producerQueueFullWaits = output.producer.queueFullWaits
                publishStats()
            }
            // After the poll and any tick: their summaries go to the encoder, finished ones out.
            sendEncodedSummaries(wait: false)
            let sinceCommit = now - lastCommit
            if sinceCommit >= config.commitIntervalMillis
                || (urgent && sinceCommit >= Self.urgentCommitSpacing && consumer.queued < pollLimit)
                || (isolating && takenSinceCommit > 0)
            {
                commit()
            }
        }
        if broken == nil {
            drainAll()
            commit()
        } else {
            // Broken by a send or a lookup rather than a commit: what was sent since the last
            // commit is dropped all the same.
            transactionEnded(committed: false)
            output.abort(logger: logger)
        }
        report.failure = broken
        if broken != nil, isolatedPositions.count == 1 { report.failedAlone = isolatedPositions[0] }
        summaryEncoder?.stop()
        // Leave the group now, broken or not: a member that lingers holds the rebuilt stage's
        // join back until the coordinator gives up on it (90 s seen in the fault tests).
        consumer.close()
        publishStats()
        logger.info("stage stopped", metadata: [LogKey.stage: "\(name)"])
        return broken != nil
    }

    /// Flushes the stage's state and commits it with its outputs and input offsets.
    func commit() {
        lastCommit = pipeline.clock()
        urgent = false
        // What this commit makes durable is everything there is: the bounded run's end for this stage.
        let finishing = pipeline.endOffsets != nil && isAssigned && isFinished()
        let offsets = prepareCommit()
        // Every summary of the committed input goes into this transaction.
        sendEncodedSummaries(wait: true)
        // A record that could not be sent (now or since the last commit) must not be committed
        // past: the stage is rebuilt and reads that input again.
        guard broken == nil else {
            transactionEnded(committed: false)
            return
        }
        do {
            try output.commit(offsets, consumer: consumer)
            counters.commits += 1
            if takenSinceCommit > 0 { report.inputCommits += 1 }
            report.condemnedCommitted.formUnion(condemnedTaken)
            takenSinceCommit = 0
            isolatedPositions.removeAll()
            condemnedTaken.removeAll()
            pipeline.health.stageCommitted(name)
            transactionEnded(committed: true)
            if finishing, !counters.finished {
                counters.finished = true
                publishStats()
                pipeline.stageFinished()
            }
            counters.finished = finishing
        } catch {
            counters.deliveryFailures += 1
            if output.exactlyOnce || error.isFatal || error.requiresAbort {
                // The transaction's records are discarded; in-memory state ran ahead of what is
                // durable, so the stage is rebuilt from its changelog.
                logger.error(
                    "commit failed; rebuilding the stage",
                    metadata: [LogKey.stage: "\(name)", LogKey.error: "\(error)"])
                broken = error
                transactionEnded(committed: false)
            } else {
                logger.warning(
                    "commit failed; will retry", metadata: [LogKey.stage: "\(name)", LogKey.error: "\(error)"])
            }
        }
    }

    /// Takes a record, or dead-letters it if the `PoisonHunt` condemned it.
    private func receive(_ message: ConsumedMessage) {
        let position = PoisonHunt.Position(source: message.topicPartition, offset: message.offset)
        takenSinceCommit += 1
        if isolating { isolatedPositions.append(position) }
        // Almost always empty: skip hashing the position's topic name for every message.
        guard !condemned.isEmpty, let failure = condemned[position] else { return take(message) }
        skip(message)
        condemnedTaken.insert(position)
        logger.error(
            "record dead-lettered as unprocessable",
            metadata: [
                LogKey.stage: "\(name)", LogKey.offsets: "\(message.topicPartition)@\(message.offset)",
                LogKey.error: "\(failure)",
            ])
        unprocessable(
            message,
            detail:
                "\(name) could not commit what this record produced, \(PoisonHunt.rebuildsBeforeIsolation + 1) stage rebuilds in a row: \(failure)"
        )
    }

    /// Counts and sends a dead letter, cut to what the producer may send.
    func deadLetter(_ rejection: Rejection, source: TopicPartition, offset: Int64, key: [UInt8]?, value: [UInt8]) {
        counters.deadLettersByReason[rejection.reason, default: 0] += 1
        send(
            DeadLetter.message(
                topic: topics.dlq, reason: rejection.reason, detail: rejection.detail, source: source, offset: offset,
                key: key, value: value, caps: deadLetterCaps))
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

    /// When each input partition was last confirmed with its leader, and its ends then.
    private var laneEnds: [TopicPartition: (at: EpochMillis, low: Int64, high: Int64)] = [:]

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

    /// Set by a stage that encodes its summaries on another thread (the aggregate stage).
    var summaryEncoder: SummaryEncoder?
    /// Summaries published since they were last handed to the encoder.
    private var unsubmitted: [Summary] = []

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

    private func rebalanced(_ event: RebalanceEvent) -> [TopicPartition: Int64] {
        switch event {
        case .assigned(let partitions):
            counters.assignedPartitions = partitions.count
            isAssigned = true
            counters.finished = false
            let start = assigned(partitions)
            pipeline.health.setJoined(true)
            logger.info(
                "partitions assigned", metadata: [LogKey.stage: "\(name)", LogKey.partitions: "\(partitions.sorted())"])
            return start
        case .revoked(let partitions):
            // A broken stage is leaving: nothing it holds may be committed.
            if broken == nil {
                revoking(partitions)
                commit()
            }
            revoked(partitions)
            isAssigned = false
            counters.finished = false
            // A partition's lag series leaves with it; its new owner starts its own.
            for tp in partitions { pipeline.metrics?.forgetLag(tp) }
            counters.assignedPartitions = 0
            logger.info(
                "partitions revoked", metadata: [LogKey.stage: "\(name)", LogKey.partitions: "\(partitions.sorted())"])
            return [:]
        }
    }

    func publishStats() {
        // The clients' own view of the brokers: retries and errors they recovered from.
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

    /// Errors the consumer reported through `poll` (a broker unreachable, a fetch that failed).
    private var consumerErrors = 0

    /// The group has given this stage its partitions (possibly none) and not taken them back:
    /// between a revoke and the next assignment nothing can be finished, since what the stage
    /// will own is not known yet.
    private(set) var isAssigned = false

    // MARK: hooks

    /// In a bounded run: every source of what the stage owns has ended and everything it holds
    /// is out, so the next commit leaves nothing behind.
    func isFinished() -> Bool { false }
    func take(_ message: ConsumedMessage) {}
    /// Moves past a record without taking it (the next commit stores the offset after it).
    func skip(_ message: ConsumedMessage) {}
    /// Dead-letters a record the stage cannot get past; by default the record itself.
    func unprocessable(_ message: ConsumedMessage, detail: String) {
        deadLetter(
            Rejection(.unprocessable, detail), source: message.topicPartition, offset: message.offset,
            key: message.key.map { Array($0) }, value: Array(message.value))
    }
    func afterPoll(now: EpochMillis) {}
    func tick(now: EpochMillis) {}
    /// Writes what must be durable with the commit; returns the input offsets to commit.
    func prepareCommit() -> [TopicPartition: Int64] { [:] }
    /// The commit went through (what it covered is durable), or failed for good (what was sent
    /// since the last commit may never arrive, and the rebuilt stage sends it again).
    func transactionEnded(committed: Bool) {}
    /// New partitions (eager: the whole new assignment); returns start offsets that override the
    /// committed ones.
    func assigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] { [:] }
    /// Before the revoke is committed: apply whatever is still buffered for these partitions.
    func revoking(_ partitions: [TopicPartition]) {}
    /// After the commit: drop the partitions' state.
    func revoked(_ partitions: [TopicPartition]) {}
    /// Shutdown: apply everything still buffered.
    func drainAll() {}
}
