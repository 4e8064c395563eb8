import CRdKafka

/// Conversions between Swift partition lists and `rd_kafka_topic_partition_list_t`.
enum RDKafkaPartitionList {
    /// Returns an owned list; the caller destroys it with `rd_kafka_topic_partition_list_destroy`.
    static func make(_ offsets: [TopicPartition: Int64]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
        for (tp, offset) in offsets.sorted(by: { $0.key < $1.key }) {
            let element = rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition)!
            element.pointee.offset = offset
        }
        return list
    }

    static func make(_ partitions: [TopicPartition]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        make(Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) }))
    }

    static func read(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>?) -> [(TopicPartition, Int64)] {
        guard let list else { return [] }
        var out: [(TopicPartition, Int64)] = []
        for k in 0..<Int(list.pointee.cnt) {
            let e = list.pointee.elems[k]
            out.append((TopicPartition(String(cString: e.topic), e.partition), e.offset))
        }
        return out
    }
}
