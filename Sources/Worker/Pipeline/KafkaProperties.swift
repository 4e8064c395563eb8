/// The one place librdkafka properties are assembled: our defaults, then the user's pass-through
/// map from `kafka.properties` (which wins, so real clusters can set SASL/SSL and tuning).
package enum KafkaProperties {
    package static func consumer(_ kafka: WorkerConfig.KafkaSection, bootstrap: String, groupId: String? = nil)
        -> [String: String]
    {
        var p: [String: String] = [
            "bootstrap.servers": bootstrap,
            "group.id": groupId ?? kafka.groupId,
            "client.id": kafka.clientId,
            "auto.offset.reset": "earliest",
            // Eager assignors: librdkafka 2.0.2's cooperative-sticky has known bugs.
            "partition.assignment.strategy": "range,roundrobin",
            // Prefetch bounds: 64 MiB per consumer, and a message count above what 64 MiB holds
            // of typical events (about 300,000 of 200 bytes), so the bytes bind. They are most of
            // the memory ceiling when output is slow (a stage waiting for room stops polling;
            // prefetch fills up). The count is not librdkafka's 100,000: once a bound is reached,
            // librdkafka 2.0.2 stops fetching and looks again only when its broker thread next
            // wakes, up to a second later (`rd_kafka_broker_consumer_serve`, no fetch backoff
            // setting before 2.4). At 100,000 an aggregate stage on a backlog emptied its
            // prefetch and waited a third of the run (scripts/bench.sh; README, Performance).
            "queued.min.messages": "1000000",
            "queued.max.messages.kbytes": "65536",
            "fetch.wait.max.ms": "50",
            "log_level": "4",
            // For the client metrics (`salespulse_kafka_client_errors_total`, retries).
            "statistics.interval.ms": "10000",
        ]
        // Metadata requests (lag and idleness probes) never create a topic by naming it.
        noAutoCreate(&p, kafka)
        p.merge(kafka.properties) { _, user in user }
        return p
    }

    package static func producer(_ kafka: WorkerConfig.KafkaSection, bootstrap: String) -> [String: String] {
        var p: [String: String] = [
            "bootstrap.servers": bootstrap,
            "client.id": kafka.clientId,
            "enable.idempotence": "true",
            "linger.ms": "20",
            "batch.num.messages": "10000",
            "message.timeout.ms": "0",
            // Bounded queues: a slow or unreachable broker makes `send` wait (and the stage stop
            // consuming) instead of buffering without limit.
            "queue.buffering.max.messages": "100000",
            "queue.buffering.max.kbytes": "65536",
            // Summaries, rollup batches and dead letters are repetitive JSON: LZ4 shrinks them
            // several times over at little CPU cost (and keeps the one rollup partition small).
            "compression.type": "lz4",
            "log_level": "4",
            "statistics.interval.ms": "10000",
        ]
        // librdkafka's producer default is true: a typo in a topic name, or the metadata
        // warm-up of every output topic at stage start, would create topics.
        noAutoCreate(&p, kafka)
        p.merge(kafka.properties.filter { !consumerOnly.contains($0.key) }) { _, user in user }
        return p
    }

    /// Set for a configured cluster only: the embedded mock broker answers metadata requests
    /// in a version without the flag and every client would warn about it in the demo.
    private static func noAutoCreate(_ p: inout [String: String], _ kafka: WorkerConfig.KafkaSection) {
        if !kafka.brokers.isEmpty { p["allow.auto.create.topics"] = "false" }
    }

    private static let consumerOnly: Set<String> = [
        "group.id", "auto.offset.reset", "partition.assignment.strategy", "queued.min.messages",
        "queued.max.messages.kbytes", "fetch.wait.max.ms", "session.timeout.ms", "max.poll.interval.ms",
        "heartbeat.interval.ms", "enable.partition.eof", "group.instance.id",
        "enable.auto.commit", "isolation.level", "fetch.min.bytes", "fetch.max.bytes", "max.partition.fetch.bytes",
    ]
}
