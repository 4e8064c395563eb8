import Kafka
import SalesKPI

/// One partition number's worth of state: the shard, what its sources have announced, and the
/// positions of the partitions feeding it (the internal topic's partition, or partition n of
/// every input topic when the route stage is skipped). Owned by the aggregate stage's thread; a
/// class so the stage mutates it in place (a struct in a dictionary is copied out and back on
/// every access).
final class AggregateTask {
    let partition: Int32
    var shard: ShardProcessor
    var progress: TaskProgress
    /// Progress arrived since the shard was last advanced.
    var progressChanged = false
    /// Progress changed since the last changelog flush.
    var progressDirty = false
    /// Next offset to read per input partition: what a commit stores.
    var received: [TopicPartition: Int64] = [:]
    /// Where reading started per partition without a changelog position (the group's committed
    /// offset), for idleness checks only: never committed, so it cannot rewind anything.
    var started: [TopicPartition: Int64] = [:]
    /// Something was read since the last changelog flush: state, position or both moved.
    var changed = false
    /// Region summaries and watermark reports waiting for the next flush.
    var toRollup: [RollupMessage] = []
    /// The watermark the rollup stage was last told.
    var reported: EpochMillis?
    /// The rollup stage was told the task has nothing at all (`RollupMessage.empty`).
    var reportedEmpty = false
    /// `shard.evictedReps` already counted in the stage's stats.
    var evictionsCounted = 0

    init(partition: Int32, shard: ShardProcessor, progress: TaskProgress) {
        self.partition = partition
        self.shard = shard
        self.progress = progress
    }

    /// The changelog key of the task's source progress (the shard's own keys never start with `p`).
    static let progressKey = "p"
}
