/// A message borrowed from librdkafka for the duration of one poll callback.
///
/// `key` and `value` point into librdkafka's buffer: copy what must outlive the callback.
package struct ConsumedMessage {
    package var topic: String
    package var partition: Int32
    package var offset: Int64
    package var key: UnsafeRawBufferPointer?
    package var value: UnsafeRawBufferPointer
    /// Milliseconds since the epoch, or nil when the broker gave none.
    package var timestamp: Int64?
    /// True for a tombstone (null value), as opposed to an empty one.
    package var isNull = false
    /// Where it sits in its poll's batch (`PolledBatch`).
    package var position = 0
    /// Only set when the consumer was created with `readHeaders` and the message has headers.
    package var headerView: MessageHeaders?

    /// Every header, copied.
    package var headers: [(String, [UInt8])] { headerView?.all ?? [] }

    /// The bytes of header `name`, valid only inside the poll callback.
    package func headerBytes(_ name: String) -> UnsafeRawBufferPointer? { headerView?.value(name) }

    package func header(_ name: String) -> String? {
        headerBytes(name).map { String(decoding: $0, as: UTF8.self) }
    }

    package var topicPartition: TopicPartition { TopicPartition(topic, partition) }
}
