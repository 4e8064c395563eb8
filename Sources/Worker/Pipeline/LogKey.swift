import Logging

/// Log metadata keys, in one place so dashboards and log queries can rely on them.
package enum LogKey {
    package static let topics = "topics"
    package static let shards = "shards"
    package static let partitions = "partitions"
    package static let error = "error"
    package static let events = "events"
    package static let offsets = "offsets"
    package static let brokers = "brokers"
    package static let reason = "reason"
    package static let rule = "rule"
    package static let scope = "scope"
    package static let kafka = "kafka"
    package static let stage = "stage"
    package static let records = "records"
    package static let bytes = "bytes"
    package static let duration = "duration"
    /// Restored input partitions whose changelog marker is not where the group's committed
    /// offset is (0 when state and offsets were committed together).
    package static let resumedApart = "resumed_apart_from_commit"
}
