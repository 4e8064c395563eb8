import Kafka
import Logging
import SalesKPI

/// The state owned by the pipeline thread for one `Pipeline.run()`.
///
/// A class only so the consumer's rebalance handler, which runs synchronously inside `poll` on
/// this same thread, can reach it; nothing else ever holds a reference.
final class PipelineLoop {
    let pipeline: Pipeline
    let consumer: KafkaConsumer
    let producer: KafkaProducer
    let router: ShardRouter
    let topics: WorkerConfig.TopicsSection
    var shards: [ShardProcessor]
    var rollup: CompanyRollup
    var aligner: InputAligner
    var effects: [ShardEffect] = []
    var counters = PipelineStats()
    /// Offsets already committed, to skip empty commits.
    var committed: [TopicPartition: Int64] = [:]
    /// Next offset expected per partition, for caught-up checks.
    var received: [TopicPartition: Int64] = [:]
    /// Newest event time read per partition, for the event-time lag metric.
    var lastEventTime: [TopicPartition: EpochMillis] = [:]
    var lastTick: EpochMillis = 0
    var lastCommit: EpochMillis
    var logger: Logger { pipeline.logger }

    /// Breaks the init-order cycle between the consumer and its rebalance handler.
    private final class Link {
        weak var loop: PipelineLoop?
    }

    init(pipeline: Pipeline) throws(KafkaError) {
        self.pipeline = pipeline
        let config = pipeline.config
        topics = config.worker.topics
        let link = Link()
        consumer = try KafkaConsumer(
            properties: KafkaProperties.consumer(config.worker.kafka, bootstrap: pipeline.bootstrap),
            maxBatch: config.worker.processing.pollBatch
        ) { event in link.loop?.rebalanced(event) }
        producer = try KafkaProducer(
            properties: KafkaProperties.producer(config.worker.kafka, bootstrap: pipeline.bootstrap))
        router = ShardRouter(shardCount: config.worker.processing.shards)
        shards = (0..<config.worker.processing.shards).map { _ in ShardProcessor(settings: config.settings) }
        rollup = CompanyRollup(settings: config.settings)
        aligner = InputAligner(maxIdleMillis: 1000, pauseThreshold: 50_000)
        lastCommit = pipeline.clock()
        link.loop = self
        try consumer.subscribe(topics.inputs)
    }

    func run() {
        let kafka = SecretRedaction.redact(
            KafkaProperties.consumer(pipeline.config.worker.kafka, bootstrap: pipeline.bootstrap))
        logger.info(
            "pipeline started",
            metadata: [
                LogKey.topics: "\(topics.inputs)", LogKey.shards: "\(shards.count)",
                LogKey.kafka:
                    "\(kafka.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))",
            ])
        while !pipeline.isStopping {
            consumer.poll(
                timeoutMs: 100, onError: { self.logger.warning("consumer error", metadata: [LogKey.error: "\($0)"]) }
            ) {
                self.take($0)
            }
            let now = pipeline.clock()
            release(now: now)
            if now - lastTick >= 100 { tick(now: now) }
            if now - lastCommit >= pipeline.config.commitIntervalMillis { commit(now: now) }
        }
        shutdown()
    }

    /// Runs inside `poll`, before librdkafka completes the rebalance.
    private func rebalanced(_ event: RebalanceEvent) {
        let now = pipeline.clock()
        switch event {
        case .assigned(let partitions):
            aligner.assign(partitions, now: now)
            counters.assignedPartitions += partitions.count
            pipeline.health.setJoined(true)
            logger.info("partitions assigned", metadata: [LogKey.partitions: "\(partitions.sorted())"])
        case .revoked(let partitions):
            // All KPI state stays in this process, so losing a partition only requires that what
            // was read from it is applied, published and committed before it goes.
            for item in aligner.revoke(partitions).sorted(by: { $0.event.occurredAt < $1.event.occurredAt }) {
                apply(item)
            }
            publishEffects()
            commit(now: now)
            for tp in partitions {
                committed[tp] = nil
                received[tp] = nil
                lastEventTime[tp] = nil
                pipeline.metrics?.forgetLag(tp)
            }
            counters.assignedPartitions -= partitions.count
            logger.info("partitions revoked", metadata: [LogKey.partitions: "\(partitions.sorted())"])
        }
    }

    /// Stop fetching, apply everything buffered, publish the latest provisional summaries,
    /// deliver, commit and leave the group.
    private func shutdown() {
        logger.info("stopping: draining buffered events", metadata: [LogKey.buffered: "\(aligner.buffered)"])
        for (_, item) in aligner.drain() { apply(item) }
        for k in shards.indices { shards[k].emitProvisional(effects: &effects) }
        publishEffects()
        commit(now: pipeline.clock())
        consumer.close()
        publishStats()
        logger.info("pipeline stopped", metadata: [LogKey.events: "\(counters.events)"])
    }
}
