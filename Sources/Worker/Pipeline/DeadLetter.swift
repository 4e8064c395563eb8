import Kafka
import SalesKPI

/// A message for `kpi.dlq`: the original bytes and key, with headers naming the reason and the
/// source coordinates (SPEC §7).
enum DeadLetter {
    static func message(
        topic: String, reason: RejectReason, detail: String, source: TopicPartition, offset: Int64, key: [UInt8]?,
        value: [UInt8]
    ) -> OutgoingMessage {
        OutgoingMessage(
            topic: topic, key: key, value: value,
            headers: [
                ("reason", Array(reason.rawValue.utf8)),
                ("detail", Array(detail.utf8)),
                ("source.topic", Array(source.topic.utf8)),
                ("source.partition", Array(String(source.partition).utf8)),
                ("source.offset", Array(String(offset).utf8)),
            ])
    }
}
