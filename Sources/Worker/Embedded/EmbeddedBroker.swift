import Kafka

/// The Kafka-protocol broker `run` starts when no brokers are configured: librdkafka's mock
/// cluster with three brokers and the worker's topics created up front.
package final class EmbeddedBroker: Sendable {
    package let cluster: MockCluster

    package init(brokers: Int = 3, config: ResolvedConfig, partitions: Int? = nil) throws(KafkaError) {
        cluster = try MockCluster(brokers: brokers)
        try Self.createTopics(on: cluster, config: config, partitions: partitions, replicationFactor: min(3, brokers))
    }

    package var bootstrapServers: String { cluster.bootstrapServers }

    /// Every topic the worker uses, with its partition count: inputs and outputs get
    /// `partitions` (default `topics.partitions`), the internal and changelog topics
    /// `topics.internal_partitions`, the rollup topics one.
    package static func layout(_ config: ResolvedConfig, partitions: Int? = nil) -> [(name: String, partitions: Int)] {
        let t = config.worker.topics
        let n = partitions ?? t.partitions
        return (t.inputs + t.outputs).map { ($0, n) } + [
            (t.internal, t.internalPartitions), (t.changelog, t.internalPartitions), (t.rollup, 1),
            (t.rollupChangelog, 1),
        ]
    }

    package static func createTopics(
        on cluster: MockCluster, config: ResolvedConfig, partitions: Int? = nil, replicationFactor: Int = 3
    ) throws(KafkaError) {
        for (name, count) in layout(config, partitions: partitions) {
            try cluster.createTopic(name, partitions: count, replicationFactor: replicationFactor)
        }
    }
}
