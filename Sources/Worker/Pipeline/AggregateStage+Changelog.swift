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
            offsets.merge(task.received.next) { a, _ in a }
            // Whatever was read, a marker goes with the commit: a restore resumes exactly where
            // the committed input left off (a dead-lettered record is never read twice).
            guard task.changed else { continue }
            for record in task.takeChangelog() {
                io.send(
                    OutgoingMessage(
                        topic: io.topics.changelog, partition: p, key: Array(record.key.utf8),
                        value: record.value ?? []))
                io.counters.changelogRecords += 1
            }
        }
        reportWatermarks()
        return offsets
    }

    /// Tells the rollup stage where each task stands, when that changed.
    private func reportWatermarks() {
        for (_, task) in tasks.sorted(by: { $0.key < $1.key }) {
            task.reportWatermark(everyStep: finalReport)
            guard !task.toRollup.isEmpty else { continue }
            // Few records per task and flush: the rollup partition carries every region's windows.
            for batch in RollupMessage.batches(task.toRollup) {
                io.send(OutgoingMessage(topic: io.topics.rollup, partition: 0, key: nil, value: batch))
            }
            task.toRollup.removeAll()
        }
    }
}
