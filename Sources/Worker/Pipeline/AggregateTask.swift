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
    var received = ReadPositions()
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

    /// Moves the shard to the event time its sources have all reached, and finishes it once
    /// every source has ended (a bounded run: every window gets its final now).
    func advance(effects: inout [ShardEffect]) {
        progressChanged = false
        let before = shard.watermark
        if let t = progress.eventTime { shard.advanceProgress(to: t, effects: &effects) }
        if case .ended = progress.state, !shard.finished {
            shard.finish(effects: &effects)
            changed = true
        }
        if shard.watermark != before { changed = true }
    }

    /// What the changelog gets at a commit after anything was read: the shard's changed state,
    /// the source progress if it moved, and a marker with the input position, so a restore
    /// resumes exactly where the committed input left off.
    func takeChangelog() -> [StateRecord] {
        var records = shard.takeChangelog()
        if progressDirty {
            // The progress record's own format (docs/guarantees.md, event time).
            records.append(StateRecord(key: Self.progressKey, value: ProgressRecord.encode(progress.entries)))
            progressDirty = false
        }
        records.append(ChangelogMarker(received.next).record)
        changed = false
        return records
    }

    /// Queues for the rollup stage where the task stands, when that changed. A task without a
    /// watermark holds every company window open, unless it has nothing at all: no event, and
    /// every source idle without having delivered anything (docs/guarantees.md, company windows).
    /// With `everyStep` (revoking or stopping) every new watermark is reported, however small.
    func reportWatermark(everyStep: Bool) {
        // An ended task tells the rollup `.max`: it holds no company window back any more.
        let w = shard.finished ? EpochMillis.max : shard.watermark
        if w == .min, !reportedEmpty, shard.scopeCount == 0, progress.state == .idle(.min) {
            toRollup.append(.empty(partition: partition))
            reportedEmpty = true
        }
        guard w != .min, w != reported else { return }
        reportedEmpty = false
        // Company windows can only close where some window ends: the rollup hears of a
        // watermark once it has crossed a window boundary (or when stopping), as soon as
        // it has, so company finals follow region finals within one commit.
        guard everyStep || reported.map({ w >= shard.firstWindowStart(after: $0) }) ?? true else { return }
        // A shard without any region says nothing of coverage: it holds no part of
        // the company, so it must not push the company's target coverage back.
        let coverage = shard.scopeCount > 0 ? shard.coverageStart : nil
        toRollup.append(.watermark(w, coverage: coverage, partition: partition))
        reported = w
    }
}
