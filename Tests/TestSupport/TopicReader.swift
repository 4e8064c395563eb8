import Foundation
import Kafka

/// A message read back from a topic in a test, copied out of librdkafka.
package struct ReadMessage: Sendable {
    package var topic: String
    package var partition: Int32
    package var offset: Int64
    package var key: [UInt8]?
    package var value: [UInt8]
    package var headers: [String: String]
    /// The record's timestamp (milliseconds since 1970; the producer's send time by default).
    package var timestamp: Int64?

    package var text: String { String(decoding: value, as: UTF8.self) }
}

/// Reads whole topics from the beginning up to their current high watermarks.
package enum TopicReader {
    /// High watermarks per partition of each topic, asked of the broker.
    package static func highWatermarks(bootstrap: String, topics: [String]) throws -> [TopicPartition: (
        low: Int64, high: Int64
    )] {
        let producer = try KafkaProducer(properties: ["bootstrap.servers": bootstrap])
        var out: [TopicPartition: (low: Int64, high: Int64)] = [:]
        for topic in topics {
            let n = try producer.partitionCount(topic)
            for p in 0..<Int32(n) { out[TopicPartition(topic, p)] = try producer.watermarks(TopicPartition(topic, p)) }
        }
        return out
    }

    /// The committed offsets of `group` (without joining it), per partition; absent when none.
    package static func committed(bootstrap: String, group: String, partitions: [TopicPartition]) throws
        -> [TopicPartition: Int64]
    {
        let consumer = try KafkaConsumer(properties: ["bootstrap.servers": bootstrap, "group.id": group]) { _ in [:] }
        return try consumer.committed(partitions).filter { $0.value >= 0 }
    }

    package static func readAll(bootstrap: String, topics: [String], timeout: Duration = .seconds(60)) throws
        -> [ReadMessage]
    {
        let marks = try highWatermarks(bootstrap: bootstrap, topics: topics)
        let expected = marks.values.reduce(0) { $0 + Int($1.high - $1.low) }
        guard expected > 0 else { return [] }
        let consumer = try KafkaConsumer(
            properties: [
                "bootstrap.servers": bootstrap, "group.id": "reader-\(UUID().uuidString)",
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
            ], readHeaders: true
        ) { _ in [:] }
        try consumer.subscribe(topics)
        var out: [ReadMessage] = []
        let deadline = ContinuousClock.now + timeout
        // Read to every partition's high watermark. A topic written in transactions holds commit
        // markers no message shows, so the count of messages falls short of `expected`; the
        // consumer's position moves past them, so it tells when a partition is read to its end.
        let nonEmpty = marks.filter { $0.value.high > $0.value.low }
        func readToEnd() -> Bool {
            let positions = consumer.positions(Array(nonEmpty.keys))
            return nonEmpty.allSatisfy { (positions[$0.key] ?? -1) >= $0.value.high }
        }
        while out.count < expected, ContinuousClock.now < deadline {
            consumer.poll(timeoutMs: 200) { m in
                out.append(
                    ReadMessage(
                        topic: m.topic, partition: m.partition, offset: m.offset, key: m.key.map { Array($0) },
                        value: Array(m.value),
                        headers: Dictionary(
                            m.headers.map { ($0.0, String(decoding: $0.1, as: UTF8.self)) },
                            uniquingKeysWith: { a, _ in a }), timestamp: m.timestamp))
            }
            if readToEnd() { break }
        }
        consumer.close()
        return out
    }
}
