/// An error from the Kafka adapter, carrying librdkafka's code and whether retrying can help.
package struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// librdkafka's `rd_kafka_resp_err_t` value (0 where the adapter itself failed).
    package var code: Int32
    package var message: String
    package var isFatal: Bool
    package var isRetriable: Bool
    /// A transactional error after which the transaction must be aborted.
    package var requiresAbort: Bool

    package init(
        code: Int32, message: String, isFatal: Bool = false, isRetriable: Bool = false, requiresAbort: Bool = false
    ) {
        self.code = code
        self.message = message
        self.isFatal = isFatal
        self.isRetriable = isRetriable
        self.requiresAbort = requiresAbort
    }

    /// An error about one record's content (Kafka's CORRUPT_MESSAGE, MESSAGE_TOO_LARGE,
    /// RECORD_LIST_TOO_LARGE, INVALID_TIMESTAMP, POLICY_VIOLATION, INVALID_RECORD; librdkafka
    /// reports a message past `message.max.bytes` with the same code): sending the same record
    /// again fails again, unlike a broker that is down or busy.
    package var concernsRecord: Bool { [2, 10, 18, 32, 44, 87].contains(code) }

    /// Code 0 is the adapter's own failure, not a librdkafka code: not shown (a refused restore's
    /// reason read "… (code 0)" on `/healthz` and in a bounded run's exit message).
    package var description: String {
        switch (code, isFatal) {
        case (0, false): message
        case (0, true): "\(message) (fatal)"
        default: "\(message) (code \(code)\(isFatal ? ", fatal" : ""))"
        }
    }
}
