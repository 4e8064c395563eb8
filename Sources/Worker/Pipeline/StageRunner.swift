import Foundation
import Kafka
import Logging
import SalesKPI

/// The one loop every stage runs in: one thread polls the stage's consumer, hands it messages
/// (or dead-letters those the `PoisonHunt` condemned), ticks on the wall clock, and commits at
/// the commit interval. Rebalances reach it between batches: the consumer hands each over once
/// librdkafka has returned from the poll (`KafkaConsumer.poll`), and the group waits meanwhile,
/// so a revoke commits what the stage holds before its partitions go to their next owner.
final class StageRunner {
    let io: StageIO
    let stage: any Stage
    var name: String { io.name }
    private var lastTick: EpochMillis = 0
    private var lastCommit: EpochMillis = 0
    /// Urgent commits are at least this far apart, so a backlog's tail closing windows in every
    /// poll does not commit in every poll.
    static let urgentCommitSpacing: EpochMillis = 25
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
    /// The group has given this stage its partitions (possibly none) and not taken them back:
    /// between a revoke and the next assignment nothing can be finished, since what the stage
    /// will own is not known yet.
    private var isAssigned = false
    private var pipeline: Pipeline { io.pipeline }
    private var logger: Logger { io.logger }

    private final class Link {
        weak var runner: StageRunner?
    }

    /// Connects the stage's consumer and output and builds the stage on them.
    init(pipeline: Pipeline, kind: StageKind, slot: Int) throws(KafkaError) {
        // Rebalance callbacks only run inside `poll`, once this init has returned.
        let link = Link()
        io = try StageIO(pipeline: pipeline, kind: kind, slot: slot) { event in
            link.runner?.rebalanced(event) ?? [:]
        }
        stage =
            switch kind {
            case .route: RouteStage(io: io)
            case .aggregate: AggregateStage(io: io)
            case .rollup: RollupStage(io: io)
            }
        link.runner = self
        lastCommit = pipeline.clock()
    }

    /// Runs until the pipeline stops or the stage breaks; returns whether it broke.
    func run() -> Bool {
        logger.info("stage started", metadata: [LogKey.stage: "\(name)"])
        if io.output.commitsAgainForMock {
            logger.info(
                "broker is librdkafka's mock cluster: offsets are committed again after each transaction",
                metadata: [LogKey.stage: "\(name)"])
        }
        pipeline.health.stageStarted(name)
        stage.started()
        while !pipeline.isStopping, io.broken == nil {
            io.pollStarted = pipeline.clock()
            io.consumer.poll(
                timeoutMs: 100, limit: isolating ? 1 : stage.pollLimit,
                onError: { [self] in
                    io.consumerErrors += 1
                    logger.warning("consumer error", metadata: [LogKey.stage: "\(name)", LogKey.error: "\($0)"])
                },
                // Only a stage decoding ahead has a use for the whole batch.
                polled: io.decodeAhead == nil ? nil : stage.polled, delivered: stage.delivered
            ) { [self] message in receive(message) }
            let now = pipeline.clock()
            stage.afterPoll(now: now)
            if now - lastTick >= 100 {
                lastTick = now
                // A loop that gets here takes whatever input it has: it is moving. One blocked
                // in a call (a produce waiting for room, a commit) stops reporting.
                pipeline.health.stageProgressed(name)
                stage.tick(now: now)
                let producer = io.output.producer
                producer.pollDeliveries(timeoutMs: 0)
                io.counters.producerQueuePeak = max(io.counters.producerQueuePeak, producer.outstanding)
                io.counters.producerQueueFullWaits = producer.queueFullWaits
                publishStats()
            }
            // After the poll and any tick: their summaries go to the encoder, finished ones out.
            io.sendEncodedSummaries(wait: false)
            let sinceCommit = now - lastCommit
            // Once the stage has less than a poll's worth of fetched input in hand (it has caught
            // up), an urgent transaction commits now instead of at the next interval, so each hop
            // adds a commit's round trip, not up to a commit interval (docs/guarantees.md,
            // exactly-once).
            if sinceCommit >= io.config.commitIntervalMillis
                || (io.urgent && sinceCommit >= Self.urgentCommitSpacing && io.consumer.queued < stage.pollLimit)
                || (isolating && takenSinceCommit > 0)
            {
                commit()
            }
        }
        if io.broken == nil {
            stage.drainAll()
            commit()
        } else {
            // Broken by a send or a lookup rather than a commit: what was sent since the last
            // commit is dropped all the same.
            stage.transactionEnded(committed: false)
            io.output.abort(logger: logger)
        }
        report.failure = io.broken
        if io.broken != nil, isolatedPositions.count == 1 { report.failedAlone = isolatedPositions[0] }
        io.summaryEncoder?.stop()
        io.decodeAhead?.stop()
        // Leave the group now, broken or not: a member that lingers holds the rebuilt stage's
        // join back until the coordinator gives up on it (90 s seen in the fault tests).
        io.consumer.close()
        publishStats()
        logger.info("stage stopped", metadata: [LogKey.stage: "\(name)"])
        return io.broken != nil
    }

    /// Flushes the stage's state and commits it with its outputs and input offsets.
    private func commit() {
        lastCommit = pipeline.clock()
        io.urgent = false
        // What this commit makes durable is everything there is: the bounded run's end for this stage.
        let finishing = pipeline.endOffsets != nil && isAssigned && stage.isFinished()
        let offsets = stage.prepareCommit()
        // Every summary of the committed input goes into this transaction.
        io.sendEncodedSummaries(wait: true)
        // A record that could not be sent (now or since the last commit) must not be committed
        // past: the stage is rebuilt and reads that input again.
        guard io.broken == nil else {
            stage.transactionEnded(committed: false)
            return
        }
        do {
            try io.output.commit(offsets, consumer: io.consumer)
            io.counters.commits += 1
            if takenSinceCommit > 0 { report.inputCommits += 1 }
            report.condemnedCommitted.formUnion(condemnedTaken)
            takenSinceCommit = 0
            isolatedPositions.removeAll()
            condemnedTaken.removeAll()
            // Only a stage holding partitions proves by committing that it can work: a rebuilt
            // stage also commits, empty, while it waits to join, and counted, those commits hid
            // a stage whose every restore failed (ObservabilityTests, restoreFailsEveryTime).
            if isAssigned { pipeline.health.stageCommitted(name) }
            stage.transactionEnded(committed: true)
            if finishing, !io.counters.finished {
                io.counters.finished = true
                publishStats()
                pipeline.stageFinished()
            }
            io.counters.finished = finishing
        } catch {
            io.counters.deliveryFailures += 1
            if io.output.exactlyOnce || error.isFatal || error.requiresAbort {
                // The transaction's records are discarded; in-memory state ran ahead of what is
                // durable, so the stage is rebuilt from its changelog.
                logger.error(
                    "commit failed; rebuilding the stage",
                    metadata: [LogKey.stage: "\(name)", LogKey.error: "\(error)"])
                io.broken = error
                stage.transactionEnded(committed: false)
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
        guard !condemned.isEmpty, let failure = condemned[position] else { return stage.take(message) }
        stage.skip(message)
        condemnedTaken.insert(position)
        logger.error(
            "record dead-lettered as unprocessable",
            metadata: [
                LogKey.stage: "\(name)", LogKey.offsets: "\(message.topicPartition)@\(message.offset)",
                LogKey.error: "\(failure)",
            ])
        stage.unprocessable(
            message,
            detail:
                "\(name) could not commit what this record produced, \(PoisonHunt.rebuildsBeforeIsolation + 1) stage rebuilds in a row: \(failure)"
        )
    }

    private func rebalanced(_ event: RebalanceEvent) -> [TopicPartition: Int64] {
        switch event {
        case .assigned(let partitions):
            io.counters.assignedPartitions = partitions.count
            isAssigned = true
            io.counters.finished = false
            let start = stage.assigned(partitions)
            pipeline.health.setJoined(true)
            logger.info(
                "partitions assigned", metadata: [LogKey.stage: "\(name)", LogKey.partitions: "\(partitions.sorted())"])
            return start
        case .revoked(let partitions):
            // A broken stage is leaving: nothing it holds may be committed.
            if io.broken == nil {
                stage.revoking(partitions)
                commit()
            }
            stage.revoked(partitions)
            isAssigned = false
            io.counters.finished = false
            // A partition's lag series leaves with it; its new owner starts its own.
            for tp in partitions { pipeline.metrics?.forgetLag(tp) }
            io.counters.assignedPartitions = 0
            logger.info(
                "partitions revoked", metadata: [LogKey.stage: "\(name)", LogKey.partitions: "\(partitions.sorted())"])
            return [:]
        }
    }

    private func publishStats() {
        io.publishStats()
        stage.reportLag()
    }
}
