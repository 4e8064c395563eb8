import Foundation
import Kafka
import Logging
import SalesKPI
import Synchronization

/// The worker: consumes the CRM topics, keeps the KPI shards, publishes summaries, alerts and
/// dead letters, and commits input offsets once everything derived from them is delivered.
///
/// `run()` blocks the calling thread, which owns the consumer, the producer and every shard:
/// no state is shared with other threads except the published stats and the stop flag.
package final class Pipeline: Sendable {
    package let config: ResolvedConfig
    let bootstrap: String
    let logger: Logger
    let hooks: PipelineHooks
    let clock: @Sendable () -> EpochMillis
    package let stats = StatsBox()
    package let health: HealthState
    let metrics: PipelineMetrics?
    private let stopRequested = Atomic<Bool>(false)

    package init(
        config: ResolvedConfig, bootstrap: String, logger: Logger, hooks: PipelineHooks = PipelineHooks(),
        metrics: PipelineMetrics? = nil, health: HealthState = HealthState(),
        clock: @escaping @Sendable () -> EpochMillis = Pipeline.wallClock
    ) {
        self.metrics = metrics
        self.health = health
        self.config = config
        self.bootstrap = bootstrap
        self.logger = logger
        self.hooks = hooks
        self.clock = clock
    }

    package static let wallClock: @Sendable () -> EpochMillis = {
        EpochMillis((Date().timeIntervalSince1970 * 1000).rounded())
    }

    /// Asks `run()` to stop fetching, finish what it holds, commit, leave the group and return.
    package func stop() {
        health.setStopping()
        stopRequested.store(true, ordering: .releasing)
    }

    package var isStopping: Bool { stopRequested.load(ordering: .acquiring) }

    /// Runs until `stop()`; throws only when Kafka clients cannot be created at all.
    package func run() throws(KafkaError) {
        defer { health.setDead() }
        let probe = try ClusterProbe(
            properties: KafkaProperties.producer(config.worker.kafka, bootstrap: bootstrap),
            topic: config.worker.topics.deals, health: health, logger: logger)
        probe.start()
        defer { probe.stop() }
        let loop = try PipelineLoop(pipeline: self)
        loop.run()
    }
}
