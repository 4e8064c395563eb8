import Foundation
import Kafka
import Logging
import Synchronization
import Worker

/// Runs a `Pipeline` on its own thread against a broker, for integration tests.
package final class PipelineHarness: Sendable {
    package let pipeline: Pipeline
    private let done = Atomic<Bool>(false)
    private let failure = Mutex<String?>(nil)

    package init(
        config: ResolvedConfig, bootstrap: String, logger: Logger = Logger(label: "test"),
        metrics: PipelineMetrics? = nil,
        health: HealthState = HealthState(), until ends: [TopicPartition: Int64]? = nil
    ) {
        pipeline = Pipeline(
            config: config, bootstrap: bootstrap, logger: logger, metrics: metrics, health: health, until: ends)
    }

    package func start() {
        let thread = Thread { [self] in
            do { try pipeline.run() } catch { failure.withLock { $0 = "\(error)" } }
            done.store(true, ordering: .releasing)
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    package var isDone: Bool { done.load(ordering: .acquiring) }
    package var error: String? { failure.withLock { $0 } }

    /// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
    @discardableResult
    package func wait(timeout: Duration, _ condition: (PipelineStats) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(pipeline.stats.snapshot) { return true }
            if isDone { return false }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    /// Graceful stop; returns false if the pipeline did not finish in time.
    @discardableResult
    package func stop(timeout: Duration = .seconds(30)) -> Bool {
        pipeline.stop()
        let deadline = ContinuousClock.now + timeout
        while !isDone, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return isDone
    }
}

/// Produces scenario messages and waits for their delivery, in order: the reference model
/// reads the input in the order it was sent. The producer is idempotent, but the mock cluster
/// checks sequence numbers only for transactional producers, so after a produce error it would
/// append the requests in flight behind the failed one and the retry after them; one request in
/// flight keeps a retry ahead of what follows.
package func produce(_ messages: [Scenario.Message], bootstrap: String) throws {
    let producer = try KafkaProducer(properties: [
        "bootstrap.servers": bootstrap, "linger.ms": "5", "max.in.flight.requests.per.connection": "1",
    ])
    for m in messages {
        try producer.send(OutgoingMessage(topic: m.topic, partition: m.partition, key: m.key, value: m.value))
    }
    guard producer.flush(timeoutMs: 60_000), producer.takeFailures().isEmpty else {
        throw KafkaError(code: 0, message: "test messages not delivered")
    }
}
