import CRdKafka

/// Builds an `rd_kafka_conf_t` from a property map; the one place properties reach librdkafka.
enum RDKafkaConfig {
    /// Returns an owned conf pointer; ownership passes to `rd_kafka_new` or must be destroyed.
    static func make(_ properties: [String: String]) throws(KafkaError) -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        KafkaLog.install(on: conf)
        var errstr = [CChar](repeating: 0, count: 512)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            let result = rd_kafka_conf_set(conf, key, value, &errstr, errstr.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw KafkaError(
                    code: result.rawValue, message: "invalid Kafka property \(key): \(RDKafkaConfig.text(errstr))")
            }
        }
        return conf
    }

    /// A NUL-terminated error buffer as text.
    static func text(_ buffer: [CChar]) -> String {
        buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    static func error(_ code: rd_kafka_resp_err_t, _ context: String) -> KafkaError {
        KafkaError(code: code.rawValue, message: "\(context): \(String(cString: rd_kafka_err2str(code)))")
    }

    /// Wraps an `rd_kafka_error_t`, destroying it.
    static func error(_ error: OpaquePointer, _ context: String) -> KafkaError {
        defer { rd_kafka_error_destroy(error) }
        return KafkaError(
            code: rd_kafka_error_code(error).rawValue,
            message: "\(context): \(String(cString: rd_kafka_error_string(error)))",
            isFatal: rd_kafka_error_is_fatal(error) != 0, isRetriable: rd_kafka_error_is_retriable(error) != 0,
            requiresAbort: rd_kafka_error_txn_requires_abort(error) != 0)
    }
}
