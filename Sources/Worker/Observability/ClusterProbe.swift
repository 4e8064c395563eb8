import Foundation
import Kafka
import Logging

/// Asks the cluster for metadata every `interval` on its own thread and records whether it
/// answered, so readiness reflects a broker outage within seconds.
final class ClusterProbe: Sendable {
    private let client: KafkaProducer
    private let topic: String
    private let health: HealthState
    private let logger: Logger
    private let stopped = StopSignal()
    private let intervalMillis: Int

    init(properties: [String: String], topic: String, health: HealthState, logger: Logger, intervalMillis: Int = 1000)
        throws(KafkaError)
    {
        var p = properties
        p["reconnect.backoff.ms"] = "100"
        p["reconnect.backoff.max.ms"] = "1000"
        p["enable.idempotence"] = "false"
        client = try KafkaProducer(properties: p)
        self.topic = topic
        self.health = health
        self.logger = logger
        self.intervalMillis = intervalMillis
    }

    /// What a long-running command does before its loop, worker and notifier alike: the health
    /// state's stall timeout from the config, and a started probe asking for `topic`. The caller
    /// stops it when its loop ends.
    static func started(
        config: ResolvedConfig, bootstrap: String, topic: String, health: HealthState, logger: Logger
    ) throws(KafkaError) -> ClusterProbe {
        health.setStallTimeout(millis: config.stallTimeoutMillis)
        let probe = try ClusterProbe(
            properties: KafkaProperties.producer(config.worker.kafka, bootstrap: bootstrap),
            topic: topic, health: health, logger: logger)
        probe.start()
        return probe
    }

    func start() {
        let thread = Thread { [self] in
            var last: Bool?
            repeat {
                let ok = (try? client.partitionCount(topic, timeoutMs: Int32(max(500, intervalMillis)))) != nil
                health.setReachable(ok)
                if ok != last {
                    if ok { logger.info("cluster reachable") } else { logger.warning("cluster unreachable") }
                    last = ok
                }
            } while !stopped.wait(upTo: .milliseconds(intervalMillis))
        }
        thread.name = "cluster-probe"
        thread.start()
    }

    func stop() { stopped.stop() }
}
