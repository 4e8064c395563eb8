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
    /// Only filled when the consumer was created with `readHeaders`.
    package var headers: [(String, [UInt8])] = []

    package func header(_ name: String) -> String? {
        headers.first { $0.0 == name }.map { String(decoding: $0.1, as: UTF8.self) }
    }

    package var topicPartition: TopicPartition { TopicPartition(topic, partition) }
}
