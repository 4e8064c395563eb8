import CRdKafka

/// librdkafka's in-process mock cluster: real Kafka protocol on loopback (the test broker: README, Limits).
///
/// It lives as long as this object (and the private client handle it needs). It silently drops
/// data past 5 MiB per partition: size test data well under that.
// @unchecked Sendable: the mock cluster's API is thread-safe (it posts operations to its own thread).
package final class MockCluster: @unchecked Sendable {
    private let handle: OpaquePointer
    private let cluster: OpaquePointer
    package let bootstrapServers: String

    /// Whether a cluster id is the one a mock cluster reports in its metadata: librdkafka names
    /// every mock cluster `mockCluster<hex>` (src/rdkafka_mock.c, 2.0.2), while a real cluster's
    /// id is a base64 UUID. Lets a client tell the mock from a real cluster by asking the brokers.
    package static func isMock(clusterId: String) -> Bool { clusterId.hasPrefix("mockCluster") }

    package init(brokers: Int = 3) throws(KafkaError) {
        let conf = try RDKafkaConfig.make(["log_level": "3"])
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(code: 0, message: "cannot create mock cluster handle: \(RDKafkaConfig.text(errstr))")
        }
        guard let mc = rd_kafka_mock_cluster_new(rk, Int32(brokers)) else {
            rd_kafka_destroy(rk)
            throw KafkaError(code: 0, message: "cannot create mock cluster")
        }
        handle = rk
        cluster = mc
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(mc))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(handle)
    }

    package func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw RDKafkaConfig.error(err, "create mock topic \(name)") }
    }

    package func setBrokerDown(_ broker: Int32) {
        rd_kafka_mock_broker_set_down(cluster, broker)
    }

    package func setBrokerUp(_ broker: Int32) {
        rd_kafka_mock_broker_set_up(cluster, broker)
    }

    package func setRoundTripTime(_ broker: Int32, milliseconds: Int32) {
        rd_kafka_mock_broker_set_rtt(cluster, broker, milliseconds)
    }

    package func setPartitionLeader(_ topic: String, _ partition: Int32, broker: Int32) {
        rd_kafka_mock_partition_set_leader(cluster, topic, partition, broker)
    }

    /// Makes the next `errors.count` requests of `apiKey` fail with those librdkafka error codes.
    package func pushRequestErrors(apiKey: Int16, _ errors: [Int32]) {
        var codes = errors.map { rd_kafka_resp_err_t(rawValue: $0) }
        codes.withUnsafeMutableBufferPointer {
            rd_kafka_mock_push_request_errors_array(cluster, apiKey, $0.count, $0.baseAddress)
        }
    }
}
