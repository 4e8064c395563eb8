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
            let properties = KafkaProperties.producer(config.worker.kafka, bootstrap: bootstrap)
            let producer = try KafkaProducer(properties: properties)
            let wanted: [(name: String, partitions: Int, replicationFactor: Int, config: [String: String])] =
                t.outputs.map { ($0, t.partitions, t.replicationFactor, [:]) } + [
                    (t.internal, t.internalPartitions, t.replicationFactor, week),
                    (t.changelog, t.internalPartitions, t.replicationFactor, compact),
                    (t.rollup, 1, t.replicationFactor, week),
                    (t.rollupChangelog, 1, t.replicationFactor, compact),
                ]
            // Only what is missing: some clusters (and the mock) do not offer CreateTopics at all.
            var missing: [(name: String, partitions: Int, replicationFactor: Int, config: [String: String])] = []
            let existing = try producer.topics()
            for topic in wanted where existing[topic.name] == nil { missing.append(topic) }
            if !missing.isEmpty { try producer.createTopics(missing) }
            for input in t.inputs where existing[input] == nil {
                logger.warning("input topic does not exist yet", metadata: [LogKey.topics: "\(input)"])
            }
        } catch {
            logger.warning("could not create topics; assuming they exist", metadata: [LogKey.error: "\(error)"])
        }
    }
}
