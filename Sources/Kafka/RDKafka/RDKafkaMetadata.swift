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
}
