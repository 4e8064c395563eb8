import Foundation
import Kafka
import Synchronization

/// What notify has handled, per (alert, webhook), kept in a compacted topic so no alert goes to
/// a webhook twice across restarts and rebalances (docs/notify.md): read to its end whenever
/// partitions are assigned, written before the alert's offset may be committed.
final class SentLedger: Sendable {
    private let handled = Mutex<Set<String>>([])

    static func key(_ alertId: String, _ webhook: String) -> String { alertId + "\u{1}" + webhook }

    func contains(_ key: String) -> Bool { handled.withLock { $0.contains(key) } }

    func insert(_ key: String) { _ = handled.withLock { $0.insert(key) } }

    var count: Int { handled.withLock { $0.count } }

    /// Reads every record of the ledger topic (tombstones forget).
    func load(topic: String, partitions: Int, properties: [String: String]) throws(KafkaError) {
        var keys: [String: Bool] = [:]
        try PartitionReader.read((0..<partitions).map { TopicPartition(topic, Int32($0)) }, properties: properties) {
            guard let key = $0.key else { return }
            keys[String(decoding: key, as: UTF8.self)] = !$0.isNull
        }
        handled.withLock { set in
            for (key, present) in keys {
                if present { set.insert(key) } else { set.remove(key) }
            }
        }
    }
}
