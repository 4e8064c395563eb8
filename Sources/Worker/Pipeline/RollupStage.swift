import Foundation
import Kafka
import SalesKPI

/// Rollup stage: company scope from the region summaries and task watermarks that aggregate
/// tasks send through the single-partition rollup topic. The group gives that partition to one
/// instance at a time; its state is restored from and flushed to the rollup changelog.
final class RollupStage: Stage {
    var rollup: CompanyRollup?
    var next: Int64?
    var changed = false
    var effects: [ShardEffect] = []

    let io: StageIO

    init(io: StageIO) { self.io = io }

    func take(_ message: ConsumedMessage) {
        guard rollup != nil else { return }
        next = message.offset + 1
        changed = true
        guard let batch = RollupMessage.decodeBatch(Array(message.value)) else {
            // Only aggregate stages write here; whatever else arrives is kept, not dropped.
            io.logger.warning("unreadable rollup message", metadata: [LogKey.offsets: "\(message.offset)"])
            io.deadLetter(
                Rejection(.unreadableBatch, "not a rollup batch of version \(RollupMessage.binaryVersion)"),
                source: message.topicPartition, offset: message.offset, key: message.key.map { Array($0) },
                value: Array(message.value))
            return
        }
        var misnumbered: [Window] = []
        for m in batch {
            if m.emptyShard == true {
                rollup?.shardEmpty(Int(m.partition), effects: &effects)
            } else if let change = m.customers {
                rollup?.customersChanged(at: change.at, delta: change.delta)
            } else if let watermark = m.watermark {
                rollup?.shardWatermark(Int(m.partition), watermark, coverage: m.coverage, effects: &effects)
            } else if let window = m.window {
                // Numbered by the list before a change of `time.windows` (WindowKindNames):
                // counted under this one, it would be another kind's window.
                guard io.config.settings.isAligned(window), let summary = m.regionSummary(settings: io.config.settings)
                else {
                    misnumbered.append(window)
                    continue
                }
                rollup?.ingest(summary, effects: &effects)
            }
        }
        if let first = misnumbered.first {
            let kinds = io.config.settings.windows
            let kind = Int(first.kind) < kinds.count ? "'\(kinds[Int(first.kind)].name)'" : "kind \(first.kind)"
            // Bytes from a topic: only a time events can have is formatted.
            func time(_ t: EpochMillis) -> String {
                Timestamp.representableYears.contains(t) ? Timestamp.format(t) : "\(t) ms"
            }
            let detail =
                "\(misnumbered.count) region summaries of this batch left out: their windows are no windows of "
                + "their kinds under time.windows (the first, from \(time(first.start)) to "
                + "\(time(first.end)), as \(kind)); written before time.windows changed, they "
                + "number kinds by the old list. The rest of the batch was counted"
            io.logger.warning("rollup summaries of another window list", metadata: [LogKey.error: "\(detail)"])
            io.deadLetter(
                Rejection(.unreadableBatch, detail), source: message.topicPartition, offset: message.offset,
                key: message.key.map { Array($0) }, value: Array(message.value))
        }
        publish()
    }

    func skip(_ message: ConsumedMessage) {
        guard rollup != nil else { return }
        next = message.offset + 1
        changed = true
    }

    private func publish() {
        for effect in effects { io.publish(effect) }
        effects.removeAll(keepingCapacity: true)
    }

    func tick(now: EpochMillis) {
        rollup?.tick(now: now, effects: &effects)
        guard let rollup else { return }
        if !effects.isEmpty { changed = true }
        publish()
        io.counters.companyWatermark = rollup.progressWatermark
        io.counters.lateRollupSummaries = rollup.lateSummaries
    }

    /// The company is final everywhere, or this instance does not hold the rollup partition.
    func isFinished() -> Bool { rollup?.ended ?? true }

    func prepareCommit() -> [TopicPartition: Int64] {
        guard rollup != nil, let next else { return [:] }
        let input = TopicPartition(io.topics.rollup, 0)
        if changed {
            for record in (rollup?.takeChangelog() ?? []) + [ChangelogMarker([input: next]).record] {
                io.send(
                    OutgoingMessage(
                        topic: io.topics.rollupChangelog, partition: 0, key: Array(record.key.utf8),
                        value: record.value ?? []))
                io.counters.changelogRecords += 1
            }
            changed = false
        }
        return [input: next]
    }

    func assigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        guard let input = partitions.first(where: { $0.topic == io.topics.rollup }) else { return [:] }
        let began = ContinuousClock.now
        do {
            let restored =
                try ChangelogMarker.restore(
                    [TopicPartition(io.topics.rollupChangelog, 0)],
                    properties: KafkaProperties.consumer(io.config.worker.kafka, bootstrap: io.pipeline.bootstrap))[0]
                ?? ChangelogMarker.Restored()
            rollup = try CompanyRollup.restore(
                settings: io.config.settings, shards: try shardCount(), records: restored.records)
            let elapsed = ContinuousClock.now - began
            let millis = Int(elapsed.milliseconds)
            io.counters.restoredRecords += restored.read
            io.counters.restoredBytes += restored.bytes
            io.counters.restoreMillis += millis
            io.logger.info(
                "rollup restored",
                metadata: [
                    LogKey.records: "\(restored.read)", LogKey.bytes: "\(restored.bytes)",
                    LogKey.duration: "\(elapsed)",
                ])
            next = restored.positions?[input]
            return next.map { [input: $0] } ?? [:]
        } catch {
            io.restoreFailed("the rollup", error)
            return [:]
        }
    }

    /// How many tasks report: one per internal partition, or per partition number of the input
    /// topics when the route stage is skipped.
    private func shardCount() throws(KafkaError) -> Int {
        let t = io.topics
        let named = io.config.worker.processing.routeStage ? [t.internal] : t.inputs
        var n = 0
        for topic in named { n = max(n, try io.output.producer.partitionCount(topic)) }
        guard n > 0 else { throw KafkaError(code: 0, message: "no partitions in \(named)") }
        return n
    }

    func revoked(_ partitions: [TopicPartition]) {
        rollup = nil
        next = nil
    }
}
