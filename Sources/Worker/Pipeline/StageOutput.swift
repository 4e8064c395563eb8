import Kafka
import Logging

/// Where a stage's outputs go, and how they become durable together with its input offsets:
/// in one Kafka transaction (`exactly_once`), or delivered first and committed after
/// (`at_least_once`).
final class StageOutput {
    let producer: KafkaProducer
    let exactlyOnce: Bool
    /// Set only on librdkafka's mock cluster (the test broker and the embedded demo), recognized
    /// by its cluster id: it accepts the offsets sent to a transaction but never stores them
    /// (its TxnOffsetCommit handler only answers), which would restart every reassigned
    /// partition from the beginning. There they are committed once more after the transaction;
    /// a real cluster never gets that commit (docs/guarantees.md#exactly-once).
    let commitsAgainForMock: Bool
    private var transactionOpen = false

    /// A `transactionalId` switches on exactly-once.
    init(properties: [String: String], transactionalId: String?) throws(KafkaError) {
        var p = properties
        if let transactionalId {
            p["transactional.id"] = transactionalId
            p["transaction.timeout.ms"] = p["transaction.timeout.ms"] ?? "60000"
        }
        producer = try KafkaProducer(properties: p)
        exactlyOnce = transactionalId != nil
        if exactlyOnce { try producer.initTransactions() }
        commitsAgainForMock = exactlyOnce && (producer.clusterId().map(MockCluster.isMock) ?? false)
    }

    func send(_ message: OutgoingMessage) throws(KafkaError) {
        if exactlyOnce, !transactionOpen {
            try producer.beginTransaction()
            transactionOpen = true
        }
        try producer.send(message)
    }

    /// Makes everything sent since the last commit durable together with `offsets` (the next
    /// offset of each input partition). Throws when that could not be done; the caller decides
    /// between retrying and rebuilding the stage from its changelog.
    func commit(_ offsets: [TopicPartition: Int64], consumer: KafkaConsumer) throws(KafkaError) {
        if exactlyOnce {
            guard transactionOpen || !offsets.isEmpty else { return }
            if !transactionOpen {
                try producer.beginTransaction()
                transactionOpen = true
            }
            // Delivery reports arrive on our event queue, which commit_transaction cannot serve:
            // deliver everything first, then commit.
            guard producer.flush(timeoutMs: 30_000) else {
                throw KafkaError(
                    code: 0, message: "outputs not delivered within 30 s", isRetriable: true, requiresAbort: true)
            }
            if let failure = producer.takeFailures().first { throw failure }
            try producer.sendOffsetsToTransaction(offsets, of: consumer)
            try producer.commitTransaction()
            transactionOpen = false
            producer.pollDeliveries(timeoutMs: 0)
            if commitsAgainForMock, !offsets.isEmpty { try? consumer.commit(offsets) }
        } else {
            guard producer.flush(timeoutMs: 30_000) else {
                throw KafkaError(code: 0, message: "outputs not delivered within 30 s", isRetriable: true)
            }
            // A message that was not delivered is not retried by committing again: the stage is
            // rebuilt and reads its input again from the last commit (at least once).
            if let first = producer.takeFailures().first {
                throw KafkaError(
                    code: first.code, message: first.message, isFatal: first.isFatal, requiresAbort: true)
            }
            if !offsets.isEmpty { try consumer.commit(offsets) }
        }
    }

    /// Drops an open transaction after a failure (its records never become visible to
    /// read_committed consumers).
    func abort(logger: Logger) {
        guard exactlyOnce, transactionOpen else { return }
        producer.purgeQueued(timeoutMs: 10_000)
        do { try producer.abortTransaction() } catch {
            logger.warning("abort failed", metadata: [LogKey.error: "\(error)"])
        }
        transactionOpen = false
    }
}
