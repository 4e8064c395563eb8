import CRdKafka

/// Reads partitions from an offset to their end, outside any consumer group: how tasks restore
/// their state from the changelog before they start processing. All partitions of one
/// restore are read at once by a single client.
package enum PartitionReader {
    /// Calls `body` for each message from offset 0 until the end of every partition (for
    /// read_committed: the last stable offset). Returns how many messages were read.
    @discardableResult
    package static func read(
        _ partitions: [TopicPartition], properties: [String: String], timeoutMs: Int = 120_000,
        _ body: (ConsumedMessage) -> Void
    ) throws(KafkaError) -> Int {
        guard !partitions.isEmpty else { return 0 }
        var p = properties
        p["group.id"] = p["group.id"].map { $0 + ".restore" } ?? "salespulse.restore"
        p["enable.auto.commit"] = "false"
        p["enable.partition.eof"] = "true"
        p["isolation.level"] = "read_committed"
        p["fetch.wait.max.ms"] = "10"
        for key in ["partition.assignment.strategy", "group.instance.id"] { p[key] = nil }
        let conf = try RDKafkaConfig.make(p)
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(code: 0, message: "cannot create restore consumer: \(RDKafkaConfig.text(errstr))")
        }
        defer { rd_kafka_destroy(rk) }
        let list = RDKafkaPartitionList.make(Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(0)) }))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_assign(rk, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw RDKafkaConfig.error(err, "assign for restore") }
        let queue = rd_kafka_queue_get_consumer(rk)!
        defer { rd_kafka_queue_destroy(queue) }
        var batch = [UnsafeMutablePointer<rd_kafka_message_t>?](repeating: nil, count: 4096)
        var count = 0
        var pending = Set(partitions)
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        var names: [UnsafeMutableRawPointer: String] = [:]
        while !pending.isEmpty {
            guard ContinuousClock.now < deadline else {
                throw KafkaError(
                    code: 0, message: "restore of \(pending.sorted()) did not reach the end within \(timeoutMs) ms",
                    isRetriable: true)
            }
            let n = batch.withUnsafeMutableBufferPointer {
                rd_kafka_consume_batch_queue(queue, 50, $0.baseAddress, $0.count)
            }
            for k in 0..<max(n, 0) {
                guard let m = batch[k] else { continue }
                defer { rd_kafka_message_destroy(m) }
                let msg = m.pointee
                var topic = ""
                if let rkt = msg.rkt {
                    let key = UnsafeMutableRawPointer(rkt)
                    topic = names[key] ?? String(cString: rd_kafka_topic_name(rkt))
                    names[key] = topic
                }
                let tp = TopicPartition(topic, msg.partition)
                if msg.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    pending.remove(tp)
                    continue
                }
                guard msg.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
                let key = msg.key.map { UnsafeRawBufferPointer(start: $0, count: msg.key_len) }
                let value = UnsafeRawBufferPointer(start: msg.payload, count: msg.payload == nil ? 0 : msg.len)
                var consumed = ConsumedMessage(
                    topic: topic, partition: msg.partition, offset: msg.offset, key: key, value: value, timestamp: nil)
                consumed.isNull = msg.payload == nil
                body(consumed)
                count += 1
            }
        }
        return count
    }
}
