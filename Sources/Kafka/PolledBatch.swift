/// The values of one poll's messages, by position (`ConsumedMessage.position`), for work that
/// can start on all of them before they are handed over one by one (`KafkaConsumer.poll`).
///
/// It points into librdkafka's messages: valid until the poll's `delivered` call returns, and
/// readable from any thread until then (it is only read).
package struct PolledBatch: @unchecked Sendable {
    private let values: [UnsafeRawBufferPointer?]

    package init(_ values: [UnsafeRawBufferPointer?]) { self.values = values }

    package var count: Int { values.count }

    /// The value of the message at `position`, as `ConsumedMessage.value` gives it; nil for an
    /// error in the batch, which is not handed over as a message.
    package func value(at position: Int) -> UnsafeRawBufferPointer? { values[position] }
}
