import CRdKafka

/// Kafka transactions: outputs, changelog records and input offsets committed together.
/// Requires `transactional.id` in the producer's properties.
extension KafkaProducer {
    package func initTransactions(timeoutMs: Int32 = 30_000) throws(KafkaError) {
        try check(rd_kafka_init_transactions(handle, timeoutMs), "init transactions")
    }

    package func beginTransaction() throws(KafkaError) {
        try check(rd_kafka_begin_transaction(handle), "begin transaction")
    }

    /// Adds the consumer's next offsets to the open transaction (KIP-447: fenced by the group generation).
    package func sendOffsetsToTransaction(
        _ offsets: [TopicPartition: Int64], of consumer: KafkaConsumer, timeoutMs: Int32 = 30_000
    )
        throws(KafkaError)
    {
        guard !offsets.isEmpty else { return }
        let list = RDKafkaPartitionList.make(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        try consumer.withGroupMetadata { (metadata) throws(KafkaError) in
            try check(
                rd_kafka_send_offsets_to_transaction(handle, list, metadata, timeoutMs), "send offsets to transaction")
        }
    }

    package func commitTransaction(timeoutMs: Int32 = 60_000) throws(KafkaError) {
        try check(rd_kafka_commit_transaction(handle, timeoutMs), "commit transaction")
    }

    package func abortTransaction(timeoutMs: Int32 = 60_000) throws(KafkaError) {
        try check(rd_kafka_abort_transaction(handle, timeoutMs), "abort transaction")
    }

    private func check(_ error: OpaquePointer?, _ context: String) throws(KafkaError) {
        guard let error else { return }
        throw RDKafkaConfig.error(error, context)
    }
}
