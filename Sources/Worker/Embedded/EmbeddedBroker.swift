import Kafka
import Logging

/// The Kafka-protocol broker `run` starts when no brokers are configured: librdkafka's mock
/// cluster with three brokers and the worker's topics created up front.
package final class EmbeddedBroker: Sendable {
    package let cluster: MockCluster

    package init(brokers: Int = 3, topics: [String], partitions: Int) throws(KafkaError) {
        cluster = try MockCluster(brokers: brokers)
        for topic in topics {
            try cluster.createTopic(topic, partitions: partitions, replicationFactor: min(3, brokers))
        }
    }

    package var bootstrapServers: String { cluster.bootstrapServers }
}

/// Makes sure the output topics exist on a real cluster (inputs belong to the CRM side).
package enum TopicProvisioner {
    package static func ensureOutputs(_ config: ResolvedConfig, bootstrap: String, logger: Logger) {
        let t = config.worker.topics
        do {
            let producer = try KafkaProducer(
                properties: KafkaProperties.producer(config.worker.kafka, bootstrap: bootstrap))
            try producer.createTopics(t.outputs.map { ($0, t.partitions, t.replicationFactor, [:]) })
            for input in t.inputs where try producer.partitionCount(input) == 0 {
                logger.warning("input topic does not exist yet", metadata: [LogKey.topics: "\(input)"])
            }
        } catch {
            logger.warning("could not create output topics; assuming they exist", metadata: [LogKey.error: "\(error)"])
        }
    }
}
