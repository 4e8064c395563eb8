import Foundation
import Kafka
import Logging
import SalesKPI

/// Notify's writes to Kafka: the ledger record of each (alert, webhook) once handled, and the
/// dead letter of each that could not be delivered. Lanes call it from their own tasks; one
/// producer behind a lock, each write waited for, since the alert's offset is committed after.
final class NotifyOutput: @unchecked Sendable {
    // @unchecked Sendable: the producer is only used under `lock`.
    private let lock = NSLock()
    private let producer: KafkaProducer
    let ledgerTopic: String
    let dlqTopic: String
    private let logger: Logger

    init(producer: KafkaProducer, ledgerTopic: String, dlqTopic: String, logger: Logger) {
        self.producer = producer
        self.ledgerTopic = ledgerTopic
        self.dlqTopic = dlqTopic
        self.logger = logger
    }

    /// Writes the outcome; keeps trying while the cluster refuses (the offset waits for it).
    func record(
        _ alert: AlertNotice, webhook: String, outcome: WebhookLane.Outcome, source: TopicPartition, offset: Int64
    ) {
        var messages: [OutgoingMessage] = []
        if case .failed(let why) = outcome {
            var dead = DeadLetter.message(
                topic: dlqTopic, reason: .notifyFailed, detail: "webhook \(webhook): \(why)", source: source,
                offset: offset, key: Array(alert.alertId.utf8), value: alert.raw)
            dead.headers.append(("webhook", Array(webhook.utf8)))
            messages.append(dead)
        }
        let status = outcome == .sent ? "sent" : "dead_lettered"
        let at = Timestamp.format(Int64(Date().timeIntervalSince1970 * 1000))
        messages.append(
            OutgoingMessage(
                topic: ledgerTopic, key: SentLedger.key(alert.alertId, webhook),
                value: "{\"status\":\"\(status)\",\"at\":\"\(at)\"}"))
        lock.lock()
        defer { lock.unlock() }
        while true {
            do {
                for m in messages { try producer.send(m) }
                if producer.flush(timeoutMs: 30_000), producer.takeFailures().isEmpty { return }
            } catch {
                logger.error("notify output failed", metadata: ["error": "\(error)"])
            }
            logger.warning("retrying notify output", metadata: ["alert": "\(alert.alertId)", "webhook": "\(webhook)"])
            Thread.sleep(forTimeInterval: 1)
        }
    }
}
