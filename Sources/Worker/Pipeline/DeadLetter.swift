import Kafka
import SalesKPI

/// A message for `kpi.dlq`: the original bytes and key, with headers naming the reason and the
/// source coordinates (docs/guarantees.md, bad input).
enum DeadLetter {
    /// The most of an original value a dead letter carries. A record the producer may not send
    /// (librdkafka's `message.max.bytes`, 1,000,000 by default, and the broker's limit) would
    /// fail the stage's transaction on every retry, so a larger original is cut here and the
    /// `original.size` header says how large it was.
    static let maxValueBytes = 512 * 1024
    static let maxKeyBytes = 16 * 1024
    /// Details quote producer data (ids, field names): cut, on a character boundary.
    static let maxDetailCharacters = 1_000

    /// The value and key a dead letter may carry when the producer's `message.max.bytes` is
    /// `limit`: 64 KiB less (half, for a limit under 128 KiB) leaves room for the key (a
    /// sixteenth at most), the headers and the record's overhead.
    static func caps(producerLimit limit: Int) -> (value: Int, key: Int) {
        (min(maxValueBytes, max(limit / 2, limit - 64 * 1024)), min(maxKeyBytes, limit / 16))
    }

    static func message(
        topic: String, reason: RejectReason, detail: String, source: TopicPartition, offset: Int64, key: [UInt8]?,
        value: [UInt8], caps: (value: Int, key: Int) = (maxValueBytes, maxKeyBytes)
    ) -> OutgoingMessage {
        let (maxValueBytes, maxKeyBytes) = caps
        var headers: [(String, [UInt8])] = [
            ("reason", Array(reason.rawValue.utf8)),
            ("detail", Array(String(detail.prefix(maxDetailCharacters)).utf8)),
            ("source.topic", Array(source.topic.utf8)),
            ("source.partition", Array(String(source.partition).utf8)),
            ("source.offset", Array(String(offset).utf8)),
        ]
        if value.count > maxValueBytes { headers.append(("original.size", Array(String(value.count).utf8))) }
        if let key, key.count > maxKeyBytes { headers.append(("original.key_size", Array(String(key.count).utf8))) }
        return OutgoingMessage(
            topic: topic, key: key.map { Array($0.prefix(maxKeyBytes)) }, value: Array(value.prefix(maxValueBytes)),
            headers: headers)
    }
}
