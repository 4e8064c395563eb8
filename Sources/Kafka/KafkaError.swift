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

    package var description: String { "\(message) (code \(code)\(isFatal ? ", fatal" : ""))" }
}
