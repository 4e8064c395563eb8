import Foundation
import Kafka
import Logging
import SalesKPI
import Synchronization

/// The worker: route, aggregate and rollup stages, each on its own thread with its own consumer
/// group membership and producer, so any number of instances (threads of one process, or
/// processes) share the work through Kafka.
///
/// A stage whose commit fails in a way that loses the transaction is rebuilt from its changelog
/// (new consumer and producer, rejoin, restore); `run()` returns once every stage has stopped.
package final class Pipeline: Sendable {
    package let config: ResolvedConfig
    let bootstrap: String
    let logger: Logger
    let hooks: PipelineHooks
    let clock: @Sendable () -> EpochMillis
    package let stats = StatsBox()
    package let health: HealthState
    let metrics: PipelineMetrics?
    /// Part of every transactional id of this process.
    let instanceId: String
    private let stopRequested = StopSignal()
    private let completed = Atomic<Bool>(false)
    /// Why a bounded run gave up (`abandon`); nil while it has not.
    private let abandoned = Mutex<String?>(nil)
    /// A bounded run's end offsets (`BoundedRun`); nil for a run without end.
    let endOffsets: [TopicPartition: Int64]?
    /// The stages this process runs (route, aggregate instances, rollup).
    private let stageCount: Int

    package init(
        config: ResolvedConfig, bootstrap: String, logger: Logger, hooks: PipelineHooks = PipelineHooks(),
        metrics: PipelineMetrics? = nil, health: HealthState = HealthState(),
        clock: @escaping @Sendable () -> EpochMillis = Pipeline.wallClock,
        until endOffsets: [TopicPartition: Int64]? = nil
    ) {
        self.endOffsets = endOffsets
        stageCount = (config.worker.processing.routeStage ? 1 : 0) + config.worker.processing.aggregateThreads + 1
        self.config = config
        self.bootstrap = bootstrap
        self.logger = logger
        self.hooks = hooks
        self.metrics = metrics
        self.health = health
        self.clock = clock
        let configured = config.worker.processing.instanceId
        instanceId =
            configured.isEmpty
            ? "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
            : configured
    }

    package static let wallClock: @Sendable () -> EpochMillis = {
        EpochMillis((Date().timeIntervalSince1970 * 1000).rounded())
    }

    /// Asks every stage to stop fetching, finish what it holds, commit, leave its group and return.
    package func stop() {
        health.setStopping()
        stopRequested.stop()
    }

    package var isStopping: Bool { stopRequested.isRequested }

    /// A bounded run has nothing left: every stage of this process has read each of its sources
    /// to its end, published every final and committed it (`Stage.isFinished`).
    package var isFinished: Bool { endOffsets != nil && stats.finishedStages == stageCount }

    /// A stage has just become finished (its counters published): the last one to do so ends
    /// a bounded run, as a stop would.
    func stageFinished() {
        guard isFinished, !isStopping else { return }
        completed.store(true, ordering: .releasing)
        logger.notice("bounded run complete: every input partition read to its end, every final committed")
        stop()
    }

    /// Whether this pipeline stopped itself because its bounded run was complete.
    package var completedBoundedRun: Bool { completed.load(ordering: .acquiring) }

    /// A bounded run cannot finish once a stage has refused its changelog's records
    /// (`StageIO.refusedState`): each rebuild reads the same ones. A worker without end keeps
    /// rebuilding, with the reason on /healthz, until an operator acts; a bounded run has nobody
    /// watching it, so it stops as on SIGTERM and `run()` throws the reason.
    private func abandon(_ stage: String, _ reason: String?) {
        let why = "\(stage): \(reason ?? "its changelog could not be restored")"
        abandoned.withLock { $0 = $0 ?? why }
        logger.error("bounded run abandoned", metadata: [LogKey.stage: "\(stage)", LogKey.error: "\(why)"])
        stop()
    }

    private func refreshMetrics() {
        guard let metrics else { return }
        metrics.update(stats.snapshot)
        metrics.recordReady(health.isReady)
    }

    /// Runs until `stop()`; throws when Kafka clients cannot be created at all, or when a bounded
    /// run was abandoned (`BoundedRunAbandoned`).
    package func run() throws {
        defer { health.setDead() }
        let probe = try ClusterProbe.started(
            config: config, bootstrap: bootstrap, topic: config.worker.topics.deals, health: health, logger: logger)
        defer { probe.stop() }
        let kafka = SecretRedaction.redact(KafkaProperties.consumer(config.worker.kafka, bootstrap: bootstrap))
        logger.info(
            "pipeline started",
            metadata: [
                LogKey.topics: "\(config.worker.topics.inputs)",
                "processing_guarantee": "\(config.worker.processing.processingGuarantee.rawValue)",
                "instance": "\(instanceId)",
                LogKey.kafka:
                    "\(kafka.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))",
            ])
        var kinds: [(kind: StageKind, slot: Int)] = []
        // One route instance: see `aggregateThreads`.
        if config.worker.processing.routeStage { kinds.append((.route, 0)) }
        for slot in 0..<config.worker.processing.aggregateThreads { kinds.append((.aggregate, slot)) }
        // One partition: a second instance would only stand by.
        kinds.append((.rollup, 0))
        // Create every stage up front so configuration errors surface here, not on a thread.
        var first: [StageRunner] = []
        for (kind, slot) in kinds { first.append(try StageRunner(pipeline: self, kind: kind, slot: slot)) }
        let scrubber = SecretScrubber(secrets: SecretRedaction.secretValues(config.worker.kafka.properties))
        let done = DispatchGroup()
        for (k, (kind, slot)) in kinds.enumerated() {
            let name = first[k].name
            let initial = UncheckedBox(first[k])
            done.enter()
            let thread = Thread { [self] in
                defer { done.leave() }
                var stage: StageRunner? = initial.value
                var hunt = PoisonHunt()
                while let current = stage {
                    current.isolating = hunt.isolating
                    current.condemned = hunt.condemned
                    if hunt.isolating {
                        logger.warning(
                            "stage takes one record per transaction, to find the one it cannot get past",
                            metadata: [LogKey.stage: "\(name)"])
                    }
                    let broke = current.run()
                    hunt.runEnded(current.report)
                    guard broke, !isStopping else { break }
                    // /healthz is served to anyone who can reach it: no secret in an error reaches it.
                    let reason = current.report.failure.map { scrubber.scrub("\($0)") }
                    health.stageBroke(name, reason: reason)
                    stats.retire(name)
                    if endOffsets != nil, current.io.refusedState {
                        abandon(name, reason)
                        break
                    }
                    stage = nil
                    // A second apart, and not at all once the pipeline is stopping.
                    while stage == nil, !stopRequested.wait(upTo: .seconds(1)) {
                        do { stage = try StageRunner(pipeline: self, kind: kind, slot: slot) } catch {
                            logger.error(
                                "cannot rebuild stage", metadata: [LogKey.stage: "\(name)", LogKey.error: "\(error)"])
                        }
                    }
                }
            }
            thread.name = name
            thread.stackSize = 8 << 20
            thread.start()
        }
        // This thread turns the stages' counters into metrics until they have all stopped.
        while done.wait(timeout: .now() + .milliseconds(500)) == .timedOut { refreshMetrics() }
        refreshMetrics()
        logger.info("pipeline stopped", metadata: [LogKey.events: "\(stats.snapshot.events)"])
        if let reason = abandoned.withLock({ $0 }) { throw BoundedRunAbandoned(reason: reason) }
    }
}

/// Hands a stage to the thread that will own it.
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
