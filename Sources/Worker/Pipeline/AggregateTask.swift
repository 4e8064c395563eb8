import Kafka
import SalesKPI

/// One partition number's worth of state: the shard, the lanes feeding it (the internal topic's
/// partition, or partition n of every input topic when the route stage is skipped) and their
/// positions. Owned by the aggregate stage's thread; a class so the stage mutates it in place
/// (a struct in a dictionary is copied out and back on every access).
final class AggregateTask {
    let partition: Int32
    var shard: ShardProcessor
    var aligner: InputAligner
    /// Next offset read per lane.
    var received: [TopicPartition: Int64] = [:]
    /// Something changed since the last changelog flush.
    var changed = false
    /// Wall-clock time of assignment: a task is only called idle after a grace period.
    var assignedAt: EpochMillis = 0
    /// Region summaries and watermark reports waiting for the next flush.
    var toRollup: [RollupMessage] = []
    /// What the rollup stage was last told about this task.
    var reported: Report?

    init(partition: Int32, shard: ShardProcessor, maxIdleMillis: Int64) {
        self.partition = partition
        self.shard = shard
        aligner = InputAligner(pauseThreshold: 50_000, maxIdleMillis: maxIdleMillis)
    }

    enum Report: Equatable {
        /// No watermark yet, but data waiting: hold the company back.
        case pending
        /// No data and nothing left to read: do not hold the company back.
        case idle
        case watermark(EpochMillis)
    }

    /// Offsets every lane can be committed at: nothing before them is still buffered.
    var positions: [TopicPartition: Int64] {
        var out: [TopicPartition: Int64] = [:]
        for (tp, next) in received { out[tp] = aligner.firstBufferedOffset(tp) ?? next }
        return out
    }
}
