import Kafka
import Logging

/// Makes sure the output and internal topics exist on a real cluster (inputs belong to the CRM
/// side). The changelogs are compacted; the internal and rollup topics only need to outlive a
/// restart, so they keep a week.
package enum TopicProvisioner {
    /// The cluster holds version 1's internal topics and not the ones this config derives.
    package struct V1TopicsFound: Error, CustomStringConvertible {
        package let description: String
    }

    package static func ensureTopics(_ config: ResolvedConfig, bootstrap: String, logger: Logger)
        throws(V1TopicsFound)
    {
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
            if let refusal = v1Refusal(config, existing: Set(existing.keys)) { throw refusal }
            for topic in wanted where existing[topic.name] == nil { missing.append(topic) }
            if !missing.isEmpty { try producer.createTopics(missing) }
            for input in t.inputs where existing[input] == nil {
                logger.warning("input topic does not exist yet", metadata: [LogKey.topics: "\(input)"])
            }
        } catch let refusal as V1TopicsFound {
            throw refusal
        } catch {
            logger.warning("could not create topics; assuming they exist", metadata: [LogKey.error: "\(error)"])
        }
    }

    /// Starting on fresh derived topics next to v1's `kpi.*` ones would drop the state and the
    /// position v1 kept there without a word (docs/outputs.md, internal topics).
    package static func v1Refusal(_ config: ResolvedConfig, existing: Set<String>) -> V1TopicsFound? {
        let t = config.worker.topics
        let keys = ["topics.internal", "topics.changelog", "topics.rollup", "topics.rollup_changelog"]
        let derived = zip(keys, zip(t.internals, InternalTopics.v1Names)).filter { config.derivedTopics.contains($0.0) }
        guard derived.contains(where: { existing.contains($0.1.1) }),
            !derived.contains(where: { existing.contains($0.1.0) })
        else { return nil }
        let settings = derived.map { "\($0.0): \($0.1.1)" }.joined(separator: ", ")
        return V1TopicsFound(
            description:
                "this cluster has version 1's internal topics (\(InternalTopics.v1Names.joined(separator: ", "))) "
                + "and not the ones derived from kafka.group_id '\(config.worker.kafka.groupId)': "
                + "to keep v1's state set \(settings); to start afresh, delete the old topics")
    }
}
