/// Names of the internal topics a deployment owns, derived from its consumer group unless set,
/// as Kafka Streams derives its topics from `application.id`: two deployments with different
/// `kafka.group_id`s never read or compact each other's changelog (docs/outputs.md).
package enum InternalTopics {
    /// Suffixes after `<group_id>-`, in the order of `TopicsSection.internals`.
    static let suffixes = ["events", "changelog", "rollup", "rollup-changelog"]

    /// The names v1 used for every deployment; a cluster holding them may hold v1's state.
    package static let v1Names = ["kpi.events", "kpi.changelog", "kpi.rollup", "kpi.rollup-changelog"]

    /// Fills every internal topic left empty; returns the keys it derived.
    static func derive(_ topics: inout WorkerConfig.TopicsSection, groupId: String) -> [String] {
        var derived: [String] = []
        func fill(_ name: inout String, _ key: String, _ suffix: String) {
            guard name.isEmpty else { return }
            name = "\(groupId)-\(suffix)"
            derived.append(key)
        }
        fill(&topics.internal, "topics.internal", suffixes[0])
        fill(&topics.changelog, "topics.changelog", suffixes[1])
        fill(&topics.rollup, "topics.rollup", suffixes[2])
        fill(&topics.rollupChangelog, "topics.rollup_changelog", suffixes[3])
        return derived
    }
}
