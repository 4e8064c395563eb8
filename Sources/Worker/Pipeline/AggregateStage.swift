import Dispatch
import Foundation
import Kafka
import SalesKPI

/// Aggregate stage: one task per assigned partition, each owning its shard's state, restored
/// from the changelog on assignment and flushed to it (with the input position) at every commit.
///
/// Events are applied as they arrive; a task's event time (and with it its watermark) moves only
/// with the progress its sources announce (`TaskProgress`), so arrival order across sources
/// never makes an event late (docs/guarantees.md, event time).
final class AggregateStage: StageLoop {
    var tasks: [Int32: AggregateTask] = [:]
    /// Tasks of the previous assignment, kept through an eager rebalance in case they come back.
    var suspended: [Int32: AggregateTask] = [:]
    var effects: [ShardEffect] = []
    let inputs: [String]
    /// Reading the route stage's internal topic (else the input topics, keyed by region).
    let routed: Bool
    /// Without the route stage this stage owns the input partitions and tracks their progress.
    var ownSources: SourceTracker
    /// Every partition of the input topics, from metadata.
    var inputPartitions: [TopicPartition] = []

    init(pipeline: Pipeline, slot: Int = 0) throws(KafkaError) {
        let t = pipeline.config.worker.topics
        routed = pipeline.config.worker.processing.routeStage
        inputs = routed ? [t.internal] : t.inputs
        ownSources = SourceTracker(idleTimeout: pipeline.config.settings.idleTimeoutMillis)
        super.init(pipeline: pipeline, kind: "aggregate", slot: slot)
        try connect(inputs: inputs, groupId: pipeline.config.worker.kafka.groupId, readHeaders: false)
    }

    /// The encoder's thread lives exactly as long as the run, which stops it: a stage built but
    /// never run (another one failed to connect) leaves no thread behind.
    override func run() -> Bool {
        let settings = config.settings
        summaryEncoder = SummaryEncoder(name: name, currency: settings.reportingCurrency, calendar: settings.calendar)
        return super.run()
    }

    /// Events per input message lately (a routed batch holds hundreds): a poll of `poll_batch`
    /// batches was up to the whole prefetch, over a second of work on a backlog.
    private var eventsPerMessage = 1.0

    override var pollLimit: Int {
        Self.pollLimit(events: config.worker.processing.pollBatch, eventsPerMessage: eventsPerMessage)
    }

    /// The messages of about `events` events, at least one.
    static func pollLimit(events: Int, eventsPerMessage: Double) -> Int {
        let messages = (Double(events) / max(1, eventsPerMessage)).rounded(.up)
        return max(1, min(events, Int(messages)))
    }

    override func take(_ message: ConsumedMessage) {
        let tp = message.topicPartition
        guard let task = tasks[message.partition] else { return }
        task.received[tp] = message.offset + 1
        task.changed = true
        let consumedAt = pipeline.metrics == nil ? 0 : DispatchTime.now().uptimeNanoseconds
        if routed {
            takeRouted(message, task: task, consumedAt: consumedAt)
            return
        }
        counters.consumed += 1
        ownSources.received(tp, now: pollStarted)
        eventsPerMessage += (1 - eventsPerMessage) / 8
        let outcome = config.decoder.decode(message.value)
        if case .event(let event) = outcome { ownSources.forwarded(tp, eventTime: event.occurredAt) }
        take(
            outcome, message.value, key: message.key, source: tp, offset: message.offset, consumedAt: consumedAt,
            task: task)
    }

    /// A routed batch of events or a route instance's progress record.
    private func takeRouted(_ message: ConsumedMessage, task: AggregateTask, consumedAt: UInt64) {
        let tp = message.topicPartition
        if ProgressRecord.isRecord(message.value) {
            do {
                task.progress.record(try ProgressRecord.decode(message.value), now: pollStarted)
                task.progressChanged = true
                task.progressDirty = true
            } catch {
                deadLetter(
                    Rejection(.unreadableBatch, "\(error)"), source: tp, offset: message.offset,
                    key: message.key.map { Array($0) }, value: Array(message.value))
            }
            return
        }
        let entries: [RoutedBatch.Entry]
        do {
            entries = try RoutedBatch.entries(message.value)
        } catch {
            deadLetter(
                Rejection(.unreadableBatch, "\(error)"), source: tp, offset: message.offset,
                key: message.key.map { Array($0) }, value: Array(message.value))
            return
        }
        // A running mean over about the last eight batches.
        eventsPerMessage += (Double(entries.count) - eventsPerMessage) / 8
        for entry in entries {
            let key = entry.key.map { UnsafeRawBufferPointer(rebasing: message.value[$0]) }
            let raw = UnsafeRawBufferPointer(rebasing: message.value[entry.raw])
            // The route stage's decoding, read back; the raw bytes decoded again only for an
            // entry whose copy cannot be read.
            let outcome =
                (try? SalesEvent(binary: UnsafeRawBufferPointer(rebasing: message.value[entry.event])))
                .map(DecodeOutcome.event) ?? config.decoder.decode(raw)
            take(outcome, raw, key: key, source: entry.source, offset: entry.offset, consumedAt: consumedAt, task: task)
        }
    }

    /// Applies one decoded event; `value` is its raw form, for dead letters.
    private func take(
        _ outcome: DecodeOutcome, _ value: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer?,
        source: TopicPartition, offset: Int64, consumedAt: UInt64, task: AggregateTask
    ) {
        switch outcome {
        case .event(let event):
            apply(event, source: source, offset: offset, consumedAt: consumedAt, task: task) {
                (key.map { Array($0) }, Array(value))
            }
        case .unknownType:
            counters.unknownTypes += 1
        case .rejected(let rejection):
            deadLetter(rejection, source: source, offset: offset, key: key.map { Array($0) }, value: Array(value))
        }
    }

    override func afterPoll(now: EpochMillis) {
        takeOwnProgress(now: now)
        for (_, task) in tasks.sorted(by: { $0.key < $1.key }) where task.progressChanged { advance(task) }
    }

    /// Without the route stage: hands what this stage knows of its own input partitions to
    /// the tasks they feed.
    private func takeOwnProgress(now: EpochMillis) {
        guard !routed else { return }
        let changes = ownSources.takeChanges()
        guard !changes.isEmpty else { return }
        for (p, entries) in Dictionary(grouping: changes, by: \.source.partition) {
            guard let task = tasks[p] else { continue }
            task.progress.record(entries, now: now)
            task.progressChanged = true
            task.progressDirty = true
            task.changed = true
        }
    }

    /// Moves the task's shard to the event time its sources have all reached.
    private func advance(_ task: AggregateTask) {
        task.progressChanged = false
        guard let t = task.progress.eventTime else { return }
        let before = task.shard.watermark
        task.shard.advanceProgress(to: t, effects: &effects)
        if task.shard.watermark != before { task.changed = true }
        publish(task: task)
    }

    /// Applies one event to its task's shard; `bytes` gives the original key and value, only
    /// needed when the event turns out to be late.
    private func apply(
        _ event: SalesEvent, source: TopicPartition, offset: Int64, consumedAt: UInt64, task: AggregateTask,
        bytes: () -> (key: [UInt8]?, value: [UInt8])
    ) {
        counters.aggregated += 1
        let disposition = task.shard.apply(event, effects: &effects)
        switch disposition {
        case .counted, .timeOnly: counters.eventsByType[event.type, default: 0] += 1
        case .duplicate: counters.duplicates += 1
        case .superseded:
            counters.eventsByType[event.type, default: 0] += 1
            counters.superseded += 1
        case .late:
            let watermark = task.shard.watermark
            let (key, value) = bytes()
            deadLetter(
                Rejection(
                    .late,
                    "occurred_at is \((watermark - event.occurredAt) / 1000)s behind the watermark \(Timestamp.format(watermark))"
                ),
                source: source, offset: offset, key: key, value: value)
        }
        if let metrics = pipeline.metrics {
            metrics.recordLatency(nanoseconds: Int64(DispatchTime.now().uptimeNanoseconds - consumedAt))
        }
        publish(task: task)
    }

    private func deadLetter(
        _ rejection: Rejection, source: TopicPartition, offset: Int64, key: [UInt8]?, value: [UInt8]
    ) {
        counters.deadLettersByReason[rejection.reason, default: 0] += 1
        send(
            DeadLetter.message(
                topic: topics.dlq, reason: rejection.reason, detail: rejection.detail, source: source, offset: offset,
                key: key,
                value: value))
    }

    /// Publishes queued effects; region summaries also go to the rollup stage.
    private func publish(task: AggregateTask) {
        guard !effects.isEmpty else { return }
        task.changed = true
        for effect in effects {
            publish(effect)
            if case .summary(let summary) = effect, summary.scope.kind == .region {
                if summary.final { counters.windowsClosedByKind[summary.windowName, default: 0] += 1 }
                task.toRollup.append(.summary(summary, partition: task.partition))
            }
        }
        effects.removeAll(keepingCapacity: true)
    }

    override func tick(now: EpochMillis) {
        if !routed {
            for tp in ownSources.idleCandidates(now: now)
            where laneCaughtUp(tp, next: tasks[tp.partition]?.received[tp] ?? 0) == true {
                ownSources.markIdle(tp)
            }
            takeOwnProgress(now: now)
        }
        for (_, task) in tasks.sorted(by: { $0.key < $1.key }) {
            if task.progressChanged { advance(task) }
            task.shard.tick(now: now, idleSince: task.progress.allIdleSince, effects: &effects)
            publish(task: task)
        }
        counters.companyWatermark = tasks.values.map(\.shard.watermark).min() ?? .min
    }

    /// Writes each changed task's state, progress and a marker to its changelog partition, tells
    /// the rollup stage about new watermarks, and returns the input offsets to commit.
    override func prepareCommit() -> [TopicPartition: Int64] {
        var offsets: [TopicPartition: Int64] = [:]
        for (p, task) in tasks.sorted(by: { $0.key < $1.key }) {
            offsets.merge(task.received) { a, _ in a }
            // Whatever was read, a marker goes with the commit: a restore resumes exactly where
            // the committed input left off (a dead-lettered record is never read twice).
            guard task.changed else { continue }
            var records = task.shard.takeChangelog()
            if task.progressDirty {
                var w = BinaryWriter(capacity: 64)
                w.byte(ProgressRecord.version)
                ProgressRecord.write(task.progress.entries, to: &w)
                records.append(StateRecord(key: AggregateTask.progressKey, value: w.bytes))
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

    /// The shortest window span (a day for calendar kinds).
    private var reportStep: EpochMillis {
        config.settings.windows.map { spec -> EpochMillis in
            switch spec {
            case .fixed(let size): size
            case .hopping(_, let hop): hop
            case .calendar: Timestamp.millisPerDay
            }
        }.min() ?? Timestamp.millisPerDay
    }

    /// Set while revoking or stopping: every watermark is reported, however small the step.
    var finalReport = false

    /// Tells the rollup stage where each task stands, when that changed. A task without a
    /// watermark says nothing, and so holds every company window open.
    private func reportWatermarks() {
        for (p, task) in tasks.sorted(by: { $0.key < $1.key }) {
            let w = task.shard.watermark
            if w != .min, w != task.reported {
                // Windows end on window boundaries: telling the rollup about every small advance
                // only costs rollup records. Step by the shortest window, and always when stopping.
                if finalReport || task.reported.map({ w - $0 >= reportStep }) ?? true {
                    // A shard without any region says nothing of coverage: it holds no part of
                    // the company, so it must not push the company's target coverage back.
                    let coverage = task.shard.scopeCount > 0 ? task.shard.coverageStart : nil
                    task.toRollup.append(.watermark(w, coverage: coverage, partition: p))
                    task.reported = w
                }
            }
            guard !task.toRollup.isEmpty else { continue }
            // One message per task and flush: the rollup partition carries every region's windows.
            send(
                OutgoingMessage(topic: topics.rollup, partition: 0, key: nil, value: RollupMessage.batch(task.toRollup))
            )
            task.toRollup.removeAll()
        }
    }

    /// Every partition of the input topics (what can feed a task), asked of the cluster.
    private func learnInputPartitions() throws(KafkaError) -> [TopicPartition] {
        var all: [TopicPartition] = []
        for topic in config.worker.topics.inputs {
            let n = try output.producer.partitionCount(topic)
            guard n > 0 else { throw KafkaError(code: 0, message: "input topic \(topic) has no partitions") }
            for p in 0..<Int32(n) { all.append(TopicPartition(topic, p)) }
        }
        return all
    }

    /// The sources of task `p`: every input partition when routed, else partition p of each input.
    private func sources(ofTask p: Int32) -> [TopicPartition] {
        routed ? inputPartitions : inputPartitions.filter { $0.partition == p }
    }

    override func assigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        let now = pipeline.clock()
        do {
            inputPartitions = try learnInputPartitions()
        } catch {
            // Without the full set a task could not tell which sources it waits for.
            logger.error("cannot learn the input partitions", metadata: [LogKey.error: "\(error)"])
            broken = error
            return [:]
        }
        let byTask = Dictionary(grouping: partitions, by: \.partition)
        let committed = (try? consumer.committed(partitions)) ?? [:]
        var start: [TopicPartition: Int64] = [:]
        var toRestore: [Int32] = []
        for (p, lanes) in byTask.sorted(by: { $0.key < $1.key }) {
            // A task handed straight back is still current if nobody committed past it meanwhile.
            if let kept = suspended.removeValue(forKey: p), lanes.allSatisfy({ kept.received[$0] == committed[$0] }) {
                kept.progress.setSources(sources(ofTask: p), now: now)
                tasks[p] = kept
                for (tp, offset) in kept.received { start[tp] = offset }
            } else {
                toRestore.append(p)
            }
        }
        suspended.removeAll()
        if !routed { ownSources.assign(partitions, now: now) }
        guard !toRestore.isEmpty else { return start }
        let began = ContinuousClock.now
        do {
            let restored = try ChangelogMarker.restore(
                toRestore.map { TopicPartition(topics.changelog, $0) },
                properties: KafkaProperties.consumer(config.worker.kafka, bootstrap: pipeline.bootstrap))
            var read = 0
            var bytes = 0
            for p in toRestore {
                let r = restored[p] ?? ChangelogMarker.Restored()
                let task = AggregateTask(
                    partition: p, shard: try ShardProcessor.restore(settings: config.settings, records: r.records),
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
                    } else {
                        task.received[tp] = max(0, committed[tp] ?? 0)
                    }
                }
                tasks[p] = task
                read += r.read
                bytes += r.bytes
            }
            let elapsed = ContinuousClock.now - began
            let millis = Int(elapsed.milliseconds)
            counters.restoredRecords += read
            counters.restoredBytes += bytes
            counters.restoreMillis += millis
            pipeline.metrics?.recordRestore(seconds: Double(millis) / 1000, records: read)
            logger.info(
                "tasks restored",
                metadata: [
                    LogKey.stage: "\(name)", LogKey.partitions: "\(toRestore)", LogKey.records: "\(read)",
                    LogKey.bytes: "\(bytes)",
                    LogKey.duration: "\(elapsed)",
                ])
        } catch {
            // Starting from nothing would silently lose state: leave the stage to be rebuilt.
            logger.error("restore failed", metadata: [LogKey.partitions: "\(toRestore)", LogKey.error: "\(error)"])
            broken = KafkaError(code: 0, message: "restore of tasks \(toRestore) failed: \(error)", isRetriable: true)
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

    override func revoking(_ partitions: [TopicPartition]) {
        finalReport = true
    }

    override func revoked(_ partitions: [TopicPartition]) {
        finalReport = false
        if !routed { _ = ownSources.revoke(partitions) }
        for p in Set(partitions.map(\.partition)) {
            if let task = tasks.removeValue(forKey: p), broken == nil { suspended[p] = task }
            for tp in partitions where tp.partition == p { pipeline.metrics?.forgetLag(tp) }
        }
    }

    override func drainAll() {
        finalReport = true
        for (_, task) in tasks.sorted(by: { $0.key < $1.key }) {
            task.shard.emitProvisional(effects: &effects)
            publish(task: task)
            task.changed = true
        }
    }
}
