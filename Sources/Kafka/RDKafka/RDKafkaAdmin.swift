import CRdKafka

/// CreateTopics against a real cluster (the mock cluster has no CreateTopics: see MockCluster).
enum RDKafkaAdmin {
    static func createTopics(
        _ rk: OpaquePointer,
        _ topics: [(name: String, partitions: Int, replicationFactor: Int, config: [String: String])],
        timeoutMs: Int32
    ) throws(KafkaError) {
        guard !topics.isEmpty else { return }
        var errstr = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
        for t in topics {
            guard
                let nt = rd_kafka_NewTopic_new(
                    t.name, Int32(t.partitions), Int32(t.replicationFactor), &errstr, errstr.count)
            else { throw KafkaError(code: 0, message: "topic \(t.name): \(RDKafkaConfig.text(errstr))") }
            for (k, v) in t.config { rd_kafka_NewTopic_set_config(nt, k, v) }
            newTopics.append(nt)
        }
        let queue = rd_kafka_queue_new(rk)!
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMs, &errstr, errstr.count)
        newTopics.withUnsafeMutableBufferPointer { rd_kafka_CreateTopics(rk, $0.baseAddress, $0.count, options, queue) }
        guard let event = rd_kafka_queue_poll(queue, timeoutMs + 5000) else {
            throw KafkaError(code: 0, message: "CreateTopics timed out", isRetriable: true)
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw RDKafkaConfig.error(err, "CreateTopics") }
        guard let result = rd_kafka_event_CreateTopics_result(event) else { return }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        for k in 0..<count {
            let r = results[k]
            let e = rd_kafka_topic_result_error(r)
            if e != RD_KAFKA_RESP_ERR_NO_ERROR, e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
                throw RDKafkaConfig.error(e, "create topic \(String(cString: rd_kafka_topic_result_name(r)))")
            }
        }
    }
}
