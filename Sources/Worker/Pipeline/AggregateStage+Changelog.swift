import Kafka
import SalesKPI

/// What an aggregate stage makes durable at each commit: every task's changed state, its
/// sources' progress and a marker with its input position, and its watermark for the rollup.
extension AggregateStage {
    /// Writes each changed task's state, progress and a marker to its changelog partition, tells
    /// the rollup stage about new watermarks, and returns the input offsets to commit.
    func flushTasks() -> [TopicPartition: Int64] {
        var offsets: [TopicPartition: Int64] = [:]
        for (p, task) in tasks.sorted(by: { $0.key < $1.key }) {
            offsets.merge(task.received) { a, _ in a }
            // Whatever was read, a marker goes with the commit: a restore resumes exactly where
            // the committed input left off (a dead-lettered record is never read twice).
            guard task.changed else { continue }
            var records = task.shard.takeChangelog()
            if task.progressDirty {
                // The progress record's own format (docs/guarantees.md, event time).
                records.append(
                    StateRecord(key: AggregateTask.progressKey, value: ProgressRecord.encode(task.progress.entries)))
                task.progressDirty = false
            }
            records.append(ChangelogMarker(task.received).record)
            for record in records {
                send(
                    OutgoingMessage(
                        topic: topics.changelog, partition: p, key: Array(record.key.utf8), value: record.value ?? []))
                counters.changelogRecords += 1
            }
            task.changed = false
        }
        reportWatermarks()
        return offsets
    }

    /// Tells the rollup stage where each task stands, when that changed. A task without a
    /// watermark holds every company window open, unless it has nothing at all: no event, and
    /// every source idle without having delivered anything (docs/guarantees.md, company windows).
    private func reportWatermarks() {
        for (p, task) in tasks.sorted(by: { $0.key < $1.key }) {
            // An ended task tells the rollup `.max`: it holds no company window back any more.
            let w = task.shard.finished ? EpochMillis.max : task.shard.watermark
            if w == .min, !task.reportedEmpty, task.shard.scopeCount == 0, task.progress.state == .idle(.min) {
                task.toRollup.append(.empty(partition: p))
                task.reportedEmpty = true
            }
            if w != .min, w != task.reported {
                task.reportedEmpty = false
                // Company windows can only close where some window ends: the rollup hears of a
                // watermark once it has crossed a window boundary (or when stopping), as soon as
                // it has, so company finals follow region finals within one commit.
                if finalReport || task.reported.map({ w >= task.shard.firstWindowStart(after: $0) }) ?? true {
                    // A shard without any region says nothing of coverage: it holds no part of
                    // the company, so it must not push the company's target coverage back.
                    let coverage = task.shard.scopeCount > 0 ? task.shard.coverageStart : nil
                    task.toRollup.append(.watermark(w, coverage: coverage, partition: p))
                    task.reported = w
                }
            }
            guard !task.toRollup.isEmpty else { continue }
            // Few records per task and flush: the rollup partition carries every region's windows.
            for batch in RollupMessage.batches(task.toRollup) {
                send(OutgoingMessage(topic: topics.rollup, partition: 0, key: nil, value: batch))
            }
            task.toRollup.removeAll()
        }
    }
}
