import Kafka
import Logging

/// Makes sure the output and internal topics exist on a real cluster (inputs belong to the CRM
/// side). The changelogs are compacted; the internal and rollup topics only need to outlive a
/// restart, so they keep a week.
package enum TopicProvisioner {
    package static func ensureTopics(_ config: ResolvedConfig, bootstrap: String, logger: Logger) {
        let t = config.worker.topics
        let week = ["retention.ms": "604800000"]
        let compact = ["cleanup.policy": "compact"]
        do {
            let producer = try KafkaProducer(
                properties: KafkaProperties.producer(config.worker.kafka, bootstrap: bootstrap))
            try producer.createTopics(
                t.outputs.map { ($0, t.partitions, t.replicationFactor, [:]) } + [
                    (t.internal, t.internalPartitions, t.replicationFactor, week),
                    (t.changelog, t.internalPartitions, t.replicationFactor, compact),
                    (t.rollup, 1, t.replicationFactor, week),
                    (t.rollupChangelog, 1, t.replicationFactor, compact),
                ])
            for input in t.inputs where try producer.partitionCount(input) == 0 {
                logger.warning("input topic does not exist yet", metadata: [LogKey.topics: "\(input)"])
            }
        } catch {
            logger.warning("could not create topics; assuming they exist", metadata: [LogKey.error: "\(error)"])
        }
    }
}
