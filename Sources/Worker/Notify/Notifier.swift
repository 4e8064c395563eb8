import AsyncHTTPClient
import Foundation
import Kafka
import Logging
import Synchronization

/// `salespulse notify`: reads `kpi.alerts` (read_committed) in the group `<group_id>.notify` and
/// hands each alert to the lanes of the webhooks its routing matches, skipping those the ledger
/// says were handled already. An alert's offset is committed once every lane has delivered or
/// dead-lettered it and the ledger holds that (docs/notify.md).
package final class Notifier: Sendable {
    package struct Counts: Sendable, Equatable {
        package var alerts = 0
        package var sent = 0
        package var deadLettered = 0
        /// (alert, webhook) pairs skipped because the ledger had them: re-read after a restart.
        package var alreadyHandled = 0
        package var assignedPartitions = 0
    }

    let config: ResolvedConfig
    let notify: NotifyConfig
    let bootstrap: String
    let logger: Logger
    let commitIntervalMillis: Int64
    /// What /healthz and /readyz report for this process: one stage, `notify`.
    let health: HealthState
    let metrics: NotifyMetrics?
    package var ledgerTopic: String { config.worker.kafka.groupId + "-notify-sent" }
    private let ledger = SentLedger()
    private let inFlight = InFlightAlerts()
    private let counts = Mutex(Counts())
    private let stopping = Atomic<Int>(0)

    /// `commitIntervalMillis`: how often handled offsets are committed.
    package init(
        config: ResolvedConfig, notify: NotifyConfig, bootstrap: String, logger: Logger,
        commitIntervalMillis: Int64 = 1_000, health: HealthState = HealthState(), metrics: NotifyMetrics? = nil
    ) {
        self.health = health
        self.metrics = metrics
        self.config = config
        self.notify = notify
        self.bootstrap = bootstrap
        self.logger = logger
        self.commitIntervalMillis = commitIntervalMillis
    }

    package var snapshot: Counts { counts.withLock { $0 } }

    static let stageName = "notify"

    /// Drains what is in flight, commits and leaves the group.
    package func stop() {
        health.setStopping()
        stopping.store(1, ordering: .releasing)
        inFlight.wake()
    }

    /// Leaves without waiting for deliveries or committing: what offsets look like after a crash.
    package func halt() {
        stopping.store(2, ordering: .releasing)
        inFlight.wake()
    }

    /// Runs until `stop` or `halt`; blocking (librdkafka's consumer keeps this thread).
    package func run() throws {
        defer { health.setDead() }
        let probe = try ClusterProbe.started(
            config: config, bootstrap: bootstrap, topic: config.worker.topics.alerts, health: health, logger: logger)
        defer { probe.stop() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { try? client.syncShutdown() }
        let producer = try KafkaProducer(
            properties: KafkaProperties.producer(config.worker.kafka, bootstrap: bootstrap))
        ensureLedgerTopic(producer)
        let ledgerPartitions = (try? producer.partitionCount(ledgerTopic)) ?? 1
        let output = NotifyOutput(
            producer: producer, ledgerTopic: ledgerTopic, dlqTopic: config.worker.topics.dlq, logger: logger)
        let lanes = notify.webhooks.map { WebhookLane(webhook: $0, config: notify, client: client, logger: logger) }
        var properties = KafkaProperties.consumer(
            config.worker.kafka, bootstrap: bootstrap, groupId: config.worker.kafka.groupId + ".notify")
        properties["isolation.level"] = "read_committed"
        let ledgerProperties = properties
        var consumer: KafkaConsumer?
        consumer = try KafkaConsumer(properties: properties, maxBatch: 512) { [self] event in
            switch event {
            case .assigned(let partitions):
                counts.withLock { $0.assignedPartitions = partitions.count }
                metrics?.assigned.record(partitions.count)
                health.setJoined(true)
                // The previous owner's last deliveries are in the ledger before its commit.
                do {
                    try ledger.load(topic: ledgerTopic, partitions: ledgerPartitions, properties: ledgerProperties)
                } catch {
                    logger.error("cannot read the notify ledger", metadata: ["error": "\(error)"])
                }
                logger.info("notify partitions assigned", metadata: ["partitions": "\(partitions.sorted())"])
                return [:]
            case .revoked(let partitions):
                if stopping.load(ordering: .acquiring) != 2 {
                    waitForInFlight(in: Set(partitions), seconds: 60)
                    commit(consumer)
                }
                inFlight.update { $0.drop(partitions) }
                counts.withLock { $0.assignedPartitions = 0 }
                metrics?.assigned.record(0)
                return [:]
            }
        }
        try consumer!.subscribe([config.worker.topics.alerts])
        var lastCommit = ContinuousClock.now
        health.stageStarted(Self.stageName)
        while stopping.load(ordering: .acquiring) == 0 {
            health.stageProgressed(Self.stageName)
            if inFlight.read({ $0.pending() }) > 10_000 {
                // Lanes behind (a webhook down, a tight rate limit): stop taking alerts until
                // they catch up, or a stop or the next commit is due.
                let due = Date().addingTimeInterval(Double(commitIntervalMillis) / 1000)
                inFlight.wait(until: due) { $0.pending() <= 10_000 || stopping.load(ordering: .acquiring) != 0 }
            } else {
                consumer!.poll(timeoutMs: 100, limit: 512) { message in
                    take(message, lanes: lanes, output: output)
                }
            }
            if lastCommit.duration(to: .now) >= .milliseconds(commitIntervalMillis) {
                commit(consumer)
                metrics?.inFlight.record(inFlight.read { $0.pending() })
                lastCommit = .now
            }
        }
        if stopping.load(ordering: .acquiring) == 1 {
            waitForInFlight(in: nil, seconds: 30)
            commit(consumer)
            consumer!.close()
        }
        consumer = nil
        guard stopping.load(ordering: .acquiring) == 1 else { return }
        for lane in lanes { lane.finish() }
        _ = producer.flush(timeoutMs: 10_000)
    }

    private func take(_ message: ConsumedMessage, lanes: [WebhookLane], output: NotifyOutput) {
        let tp = message.topicPartition
        let offset = message.offset
        guard !message.isNull, let alert = AlertNotice(json: Array(message.value)) else {
            // Only the worker writes there; anything else is skipped with a warning.
            logger.warning("not an alert; skipped", metadata: ["partition": "\(tp)", "offset": "\(offset)"])
            inFlight.update { $0.begin(tp, offset, remaining: 0) }
            return
        }
        var due: [WebhookLane] = []
        var skipped = 0
        for lane in lanes where lane.webhook.accepts(alert) {
            if ledger.contains(SentLedger.key(alert.alertId, lane.webhook.name)) {
                skipped += 1
            } else {
                due.append(lane)
            }
        }
        counts.withLock {
            $0.alerts += 1
            $0.alreadyHandled += skipped
        }
        metrics?.alerts.increment()
        if skipped > 0 { metrics?.alreadyHandled.increment(by: skipped) }
        inFlight.update { $0.begin(tp, offset, remaining: due.count) }
        for lane in due {
            let name = lane.webhook.name
            lane.enqueue(
                WebhookLane.Job(alert: alert) { [self] outcome in
                    output.record(alert, webhook: name, outcome: outcome, source: tp, offset: offset)
                    ledger.insert(SentLedger.key(alert.alertId, name))
                    counts.withLock { if outcome == .sent { $0.sent += 1 } else { $0.deadLettered += 1 } }
                    metrics?.delivered(to: name, sent: outcome == .sent)
                    inFlight.update { $0.done(tp, offset) }
                })
        }
    }

    private func commit(_ consumer: KafkaConsumer?) {
        let offsets = inFlight.update { $0.takeCommittable() }
        guard let consumer, !offsets.isEmpty else { return }
        do {
            try consumer.commit(offsets)
        } catch {
            logger.warning("notify commit failed", metadata: ["error": "\(error)"])
        }
    }

    private func waitForInFlight(in partitions: Set<TopicPartition>?, seconds: Double) {
        // A halt gives up on what is in flight, as a crash would.
        inFlight.wait(until: Date().addingTimeInterval(seconds)) {
            $0.pending(in: partitions) == 0 || stopping.load(ordering: .acquiring) == 2
        }
    }

    /// The ledger only needs the latest record per key, for as long as an alert could be read
    /// again: compacted, and deleted after 30 days.
    private func ensureLedgerTopic(_ producer: KafkaProducer) {
        do {
            guard try producer.topics()[ledgerTopic] == nil else { return }
            try producer.createTopics([
                (
                    ledgerTopic, 1, config.worker.topics.replicationFactor,
                    ["cleanup.policy": "compact,delete", "retention.ms": "2592000000"]
                )
            ])
        } catch {
            logger.warning(
                "could not create the notify ledger topic; assuming it exists",
                metadata: ["topic": "\(ledgerTopic)", "error": "\(error)"])
        }
    }
}
