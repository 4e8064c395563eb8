import CRdKafka

enum RDKafkaMetadata {
    static func partitionCount(_ rk: OpaquePointer, _ topic: String, timeoutMs: Int32) throws(KafkaError) -> Int {
        guard let rkt = rd_kafka_topic_new(rk, topic, nil) else { return 0 }
        defer { rd_kafka_topic_destroy(rkt) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(rk, 0, rkt, &metadata, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw RDKafkaConfig.error(err, "metadata of \(topic)")
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        guard metadata.pointee.topic_cnt > 0 else { return 0 }
        let t = metadata.pointee.topics[0]
        return t.err == RD_KAFKA_RESP_ERR_NO_ERROR ? Int(t.partition_cnt) : 0
    }

    /// Every topic of the cluster with its partition count. Asks for all topics, so no broker
    /// auto-creates anything on the way.
    static func allTopics(_ rk: OpaquePointer, timeoutMs: Int32) throws(KafkaError) -> [String: Int] {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(rk, 1, nil, &metadata, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw RDKafkaConfig.error(err, "metadata") }
        defer { rd_kafka_metadata_destroy(metadata) }
        var out: [String: Int] = [:]
        for k in 0..<Int(metadata.pointee.topic_cnt) {
            let t = metadata.pointee.topics[k]
            if t.err == RD_KAFKA_RESP_ERR_NO_ERROR { out[String(cString: t.topic)] = Int(t.partition_cnt) }
        }
        return out
    }
}
