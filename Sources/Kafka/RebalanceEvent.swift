/// A consumer-group assignment change, delivered synchronously on the polling thread.
///
/// The handler runs before librdkafka completes the rebalance, so a revoke handler can flush
/// and commit the partitions it is losing, and an assign handler can restore state and say
/// where each new partition should start (offsets it returns override the committed ones).
package enum RebalanceEvent: Sendable, Equatable {
    case assigned([TopicPartition])
    case revoked([TopicPartition])
}
