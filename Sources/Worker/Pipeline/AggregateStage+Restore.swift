import Foundation
import Kafka
import SalesKPI

/// Assignment: which input partitions feed a task, and its state restored from the changelog.
extension AggregateStage {
    /// Every partition of the input topics (what can feed a task), asked of the cluster.
    private func learnInputPartitions() throws(KafkaError) -> [TopicPartition] {
        var all: [TopicPartition] = []
        for topic in io.config.worker.topics.inputs {
            let n = try io.output.producer.partitionCount(topic)
            guard n > 0 else { throw KafkaError(code: 0, message: "input topic \(topic) has no partitions") }
            for p in 0..<Int32(n) { all.append(TopicPartition(topic, p)) }
        }
        return all
    }

    /// The sources of task `p`: every input partition when routed, else partition p of each input.
    private func sources(ofTask p: Int32) -> [TopicPartition] {
        routed ? inputPartitions : inputPartitions.filter { $0.partition == p }
    }

    /// Takes over newly assigned partitions (eager: the whole new assignment): tasks handed
    /// straight back are kept, the others restored from their changelog. Returns the offsets to
    /// start at where they differ from the committed ones.
    func assignTasks(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        let now = io.pipeline.clock()
        do {
            inputPartitions = try learnInputPartitions()
        } catch {
            // Without the full set a task could not tell which sources it waits for.
            io.logger.error("cannot learn the input partitions", metadata: [LogKey.error: "\(error)"])
            io.broken = error
            return [:]
        }
        let byTask = Dictionary(grouping: partitions, by: \.partition)
        let committed = (try? io.consumer.committed(partitions)) ?? [:]
        var start: [TopicPartition: Int64] = [:]
        var toRestore: [Int32] = []
        for (p, lanes) in byTask.sorted(by: { $0.key < $1.key }) {
            // A task handed straight back is still current if nobody committed past it meanwhile.
            if let kept = suspended.removeValue(forKey: p), lanes.allSatisfy({ kept.received[$0] == committed[$0] }) {
                kept.progress.setSources(sources(ofTask: p), now: now)
                tasks[p] = kept
                for (tp, offset) in kept.received.next { start[tp] = offset }
            } else {
                toRestore.append(p)
            }
        }
        suspended.removeAll()
        if !routed { ownSources.assign(partitions, now: now) }
        guard !toRestore.isEmpty else { return start }
        io.pipeline.health.stageRestoring(io.name, true)
        defer { io.pipeline.health.stageRestoring(io.name, false) }
        let began = ContinuousClock.now
        do {
            let restored = try ChangelogMarker.restore(
                toRestore.map { TopicPartition(io.topics.changelog, $0) },
                properties: KafkaProperties.consumer(io.config.worker.kafka, bootstrap: io.pipeline.bootstrap))
            var read = 0
            var bytes = 0
            var apart = 0
            for p in toRestore {
                let r = restored[p] ?? ChangelogMarker.Restored()
                let task = AggregateTask(
                    partition: p, shard: try ShardProcessor.restore(settings: io.config.settings, records: r.records),
                    progress: try Self.restoreProgress(r.records))
                task.progress.setSources(sources(ofTask: p), now: now)
                task.progressChanged = true
                let lanes = byTask[p] ?? []
                for tp in lanes {
                    // Resume exactly where the restored state left off; without a marker, where
                    // the group committed (nothing read before it changed any state).
                    if let offset = r.positions?[tp] {
                        start[tp] = offset
                        task.received[tp] = offset
                        if offset != committed[tp] ?? 0 { apart += 1 }
                    } else {
                        task.started[tp] = max(0, committed[tp] ?? 0)
                    }
                }
                tasks[p] = task
                read += r.read
                bytes += r.bytes
            }
            let elapsed = ContinuousClock.now - began
            let millis = Int(elapsed.milliseconds)
            io.counters.restoredRecords += read
            io.counters.restoredBytes += bytes
            io.counters.restoreMillis += millis
            io.pipeline.metrics?.recordRestore(seconds: Double(millis) / 1000, records: read)
            io.logger.info(
                "tasks restored",
                metadata: [
                    LogKey.stage: "\(io.name)", LogKey.partitions: "\(toRestore)", LogKey.records: "\(read)",
                    LogKey.bytes: "\(bytes)",
                    LogKey.duration: "\(elapsed)", LogKey.resumedApart: "\(apart)",
                ])
        } catch {
            io.restoreFailed("tasks \(toRestore)", error, metadata: [LogKey.partitions: "\(toRestore)"])
            return [:]
        }
        return start
    }

    /// The source progress a task had flushed with its state (none for a task never flushed).
    private static func restoreProgress(_ records: [StateRecord]) throws -> TaskProgress {
        guard let value = StateRecord.latestValues(records)[AggregateTask.progressKey] ?? nil else {
            return TaskProgress()
        }
        let entries = try value.withUnsafeBytes { bytes throws(ProgressRecord.Malformed) in
            try ProgressRecord.decode(bytes)
        }
        return TaskProgress(restoring: entries)
    }
}
