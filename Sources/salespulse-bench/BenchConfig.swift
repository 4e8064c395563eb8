import ArgumentParser
import Worker

/// The worker configuration every pipeline mode runs: the preloaded topic as all three inputs,
/// this run's own `kpi.*` topics under `prefix`, and no wall-clock closing (the feed is history).
func benchWorkerConfig(brokers: String, topic: String, prefix: String, internalPartitions: Int) -> WorkerConfig {
    var w = WorkerConfig()
    w.kafka.brokers = brokers
    w.kafka.groupId = "bench-\(UInt32.random(in: 0...UInt32.max))"
    w.topics.deals = topic
    w.topics.customers = topic
    w.topics.spend = topic
    w.topics.summaries = prefix + w.topics.summaries
    w.topics.alerts = prefix + w.topics.alerts
    w.topics.dlq = prefix + w.topics.dlq
    // Named, not derived from the group: bench.sh creates them with their partition counts.
    w.topics.internal = prefix + "kpi.events"
    w.topics.changelog = prefix + "kpi.changelog"
    w.topics.rollup = prefix + "kpi.rollup"
    w.topics.rollupChangelog = prefix + "kpi.rollup-changelog"
    w.topics.internalPartitions = internalPartitions
    w.time.windows = BenchFeed.windows
    // Nothing may be closed by the wall clock while the history is read.
    w.time.idleTimeout = "1000d"
    w.time.emitInterval = "1h"
    w.logLevel = .warning
    // The mock's group coordinator holds a rebalance open for the session timeout less a second
    // whenever a member joins a group that is not empty, even once every member has rejoined
    // (rdkafka_mock_cgrp.c): with the 45 s default, an aggregate consumer that joined after the
    // first three seconds stalled a whole run. A real coordinator completes the rebalance as
    // soon as the members are back.
    w.kafka.properties["session.timeout.ms"] = "6000"
    w.kafka.properties["heartbeat.interval.ms"] = "500"
    return w
}

/// A bench option read into its typed setting; a bad one stops the bench with exit 2.
func benchSetting<T>(_ value: T?, _ option: String) throws -> T {
    guard let value else { throw ValidationError("\(option) is not a valid value") }
    return value
}
