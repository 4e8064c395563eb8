import Dispatch
import Foundation
import Kafka
import SalesKPI

/// Aggregate stage: one task per assigned partition, each owning its shard's state, restored
/// from the changelog on assignment and flushed to it (with the input position) at every commit.
final class AggregateStage: StageLoop {
    var tasks: [Int32: AggregateTask] = [:]
    /// Tasks of the previous assignment, kept through an eager rebalance in case they come back.
    var suspended: [Int32: AggregateTask] = [:]
    var effects: [ShardEffect] = []
    let inputs: [String]

    init(pipeline: Pipeline, slot: Int = 0) throws(KafkaError) {
        let t = pipeline.config.worker.topics
        inputs = pipeline.config.worker.processing.routeStage ? [t.internal] : t.inputs
        super.init(pipeline: pipeline, kind: "aggregate", slot: slot)
        // Only routed events carry headers we use (their raw coordinates); parsing the headers
        // of raw input costs librdkafka a list per message.
        try connect(
            inputs: inputs, groupId: pipeline.config.worker.kafka.groupId,
            readHeaders: pipeline.config.worker.processing.routeStage)
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
        if !config.worker.processing.routeStage { counters.consumed += 1 }
        guard let task = tasks[message.partition] else { return }
        task.received[tp] = message.offset + 1
        let consumedAt = pipeline.metrics == nil ? 0 : DispatchTime.now().uptimeNanoseconds
        // Only the route stage writes the internal topic; a raw input event never starts with
        // the batch version byte, but it is only looked for where batches can be.
        if config.worker.processing.routeStage, RoutedBatch.isBatch(message.value) {
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
                // The route stage's decoding, read back; the raw bytes decoded again only for a
                // batch written without it (or an entry whose copy cannot be read).
                let outcome =
                    entry.event.flatMap { try? SalesEvent(binary: UnsafeRawBufferPointer(rebasing: message.value[$0])) }
                    .map(DecodeOutcome.event) ?? config.decoder.decode(raw)
                take(
                    outcome, raw, key: key, source: entry.source, offset: entry.offset, lane: tp,
                    position: message.offset, consumedAt: consumedAt, task: task)
            }
            return
        }
        // One routed event per message (written before batches) carries its coordinates in
        // headers; unrouted ones are read where they were written.
        var source = tp
        if let topic = message.headerBytes("source.topic") {
            source = TopicPartition(
                String(decoding: topic, as: UTF8.self),
                Int32(truncatingIfNeeded: Self.integer(message.headerBytes("source.partition")) ?? -1))
        }
        let offset = Self.integer(message.headerBytes("source.offset")) ?? message.offset
        eventsPerMessage += (1 - eventsPerMessage) / 8
        take(
            config.decoder.decode(message.value), message.value, key: message.key, source: source, offset: offset,
            lane: tp, position: message.offset, consumedAt: consumedAt, task: task)
    }

    /// Applies one decoded event, or buffers it while the task's lanes are merged; `value` is
    /// its raw form, for dead letters.
    private func take(
        _ outcome: DecodeOutcome, _ value: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer?,
        source: TopicPartition, offset: Int64, lane tp: TopicPartition, position: Int64, consumedAt: UInt64,
        task: AggregateTask
    ) {
        switch outcome {
        case .event(let event):
            // A single lane has nothing to merge: apply straight from the borrowed message.
            if task.aligner.laneCount == 1, task.aligner.buffered == 0 {
                apply(event, source: source, offset: offset, consumedAt: consumedAt, task: task) {
                    (key.map { Array($0) }, Array(value))
                }
                return
            }
            let pending = InputAligner.Pending(
                source: source, event: event, offset: offset, position: position, key: key.map { Array($0) },
                raw: Array(value), consumedAt: consumedAt, arrivedAt: pollStarted)
            if task.aligner.push(tp, pending) { consumer.pause([tp]) }
        case .unknownType:
            counters.unknownTypes += 1
        case .rejected(let rejection):
            deadLetter(rejection, source: source, offset: offset, key: key.map { Array($0) }, value: Array(value))
        }
    }

    /// A decimal header value, parsed without making a string.
    private static func integer(_ bytes: UnsafeRawBufferPointer?) -> Int64? {
        guard let bytes, !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var v: Int64 = 0
        var negative = false
        for (k, b) in bytes.enumerated() {
            if k == 0, b == UInt8(ascii: "-") {
                negative = true
                continue
            }
            guard b >= 0x30, b <= 0x39 else { return nil }
            v = v * 10 + Int64(b - 0x30)
        }
        return negative ? -v : v
    }

    override func afterPoll(now: EpochMillis) {
        for p in tasks.keys.sorted() {
            let task = tasks[p]!
            guard task.aligner.buffered > 0 else { continue }
            let caughtUp = { (tp: TopicPartition) -> Bool? in self.laneCaughtUp(tp, next: task.received[tp] ?? 0) }
            while let (tp, item, resume) = task.aligner.next(now: now, caughtUp: caughtUp) {
                apply(item.event, source: item.source, offset: item.offset, consumedAt: item.consumedAt, task: task) {
                    (item.key, item.raw)
                }
                if resume { consumer.resume([tp]) }
            }
        }
    }

    /// Applies one event to its task's shard; `bytes` gives the original key and value, only
    /// needed when the event turns out to be late.
    private func apply(
        _ event: SalesEvent, source: TopicPartition, offset: Int64, consumedAt: UInt64, task: AggregateTask,
        bytes: () -> (key: [UInt8]?, value: [UInt8])
    ) {
        counters.aggregated += 1
        let disposition = task.shard.apply(event, effects: &effects)
        task.changed = true
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
        task.shard.noteInput(now: pollStarted)
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
        for p in tasks.keys.sorted() {
            tasks[p]!.shard.tick(now: now, effects: &effects)
            if !effects.isEmpty { tasks[p]!.changed = true }
            publish(task: tasks[p]!)
        }
        counters.buffered = tasks.values.reduce(0) { $0 + $1.aligner.buffered }
        counters.companyWatermark = tasks.values.map(\.shard.watermark).filter { $0 != .min }.min() ?? .min
    }

    /// Writes each changed task's state and a marker to its changelog partition, tells the
    /// rollup stage about new watermarks, and returns the input offsets to commit.
    override func prepareCommit() -> [TopicPartition: Int64] {
        var offsets: [TopicPartition: Int64] = [:]
        for p in tasks.keys.sorted() {
            let positions = tasks[p]!.positions
            offsets.merge(positions) { a, _ in a }
            guard tasks[p]!.changed else { continue }
            for record in tasks[p]!.shard.takeChangelog() + [ChangelogMarker(positions).record] {
                send(
                    OutgoingMessage(
                        topic: topics.changelog, partition: p, key: Array(record.key.utf8), value: record.value ?? []))
                counters.changelogRecords += 1
            }
            tasks[p]!.changed = false
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

    /// Tells the rollup stage where each task stands, when that changed.
    private func reportWatermarks() {
        for p in tasks.keys.sorted() {
            let task = tasks[p]!
            let w = task.shard.watermark
            let report: AggregateTask.Report = w != .min ? .watermark(w) : isDrained(task) ? .idle : .pending
            guard report != task.reported else { continue }
            // Windows end on window boundaries: telling the rollup about every small advance only
            // costs rollup records. Step by the shortest window, and always when stopping.
            if case .watermark(let w) = report, case .watermark(let old)? = task.reported, !finalReport,
                w - old < reportStep
            {
                continue
            }
            let message: RollupMessage =
                switch report {
                case .watermark(let w): .watermark(w, coverage: task.shard.coverageStart, partition: p)
                case .pending: .watermark(.min, coverage: nil, partition: p)
                case .idle: .idle(partition: p)
                }
            tasks[p]!.toRollup.append(message)
            tasks[p]!.reported = report
        }
        for p in tasks.keys.sorted() where !tasks[p]!.toRollup.isEmpty {
            // One message per task and flush: the rollup partition carries every region's windows.
            send(
                OutgoingMessage(
                    topic: topics.rollup, partition: 0, key: nil, value: RollupMessage.batch(tasks[p]!.toRollup)))
            tasks[p]!.toRollup.removeAll()
        }
    }

    /// A task without data for this long after assignment, with nothing to read, is idle: the
    /// route stage has had ample time to send it anything it holds.
    static let idleGraceMillis: EpochMillis = 5_000

    /// Nothing buffered, every lane read up to what the broker holds, past the grace period, and
    /// (when routed) nothing left for the route stage to send: an empty partition whose region's
    /// first events are merely delayed (a broker down, a slow route instance) must hold the
    /// company back, or company windows would be finalized without that region.
    private func isDrained(_ task: AggregateTask) -> Bool {
        guard task.aligner.buffered == 0, pipeline.clock() - task.assignedAt >= Self.idleGraceMillis else {
            return false
        }
        for tp in task.aligner.lanes {
            guard let high = consumer.cachedHighWatermark(tp) else { return false }
            if high > 0, (task.received[tp] ?? 0) < high { return false }
        }
        guard config.worker.processing.routeStage else { return true }
        guard routeCaughtUp() else { return false }
        // Asked of the broker after the route group's offsets: whatever it routed is counted.
        for tp in task.aligner.lanes {
            guard let marks = try? consumer.watermarks(tp, timeoutMs: 5_000) else { return false }
            if (task.received[tp] ?? 0) < marks.high { return false }
        }
        return true
    }

    /// Cached for one commit interval: asking costs a request per input partition.
    private var routeCaughtUpAnswer: (at: EpochMillis, value: Bool)?
    private var routeProbe: KafkaConsumer?

    /// Whether the route stage's group has committed every input partition up to its end.
    private func routeCaughtUp() -> Bool {
        let now = pipeline.clock()
        if let answer = routeCaughtUpAnswer, now - answer.at < config.commitIntervalMillis { return answer.value }
        var value = false
        do {
            if routeProbe == nil {
                // Never subscribes: only reads the route group's committed offsets.
                routeProbe = try KafkaConsumer(
                    properties: KafkaProperties.consumer(
                        config.worker.kafka, bootstrap: pipeline.bootstrap,
                        groupId: config.worker.kafka.groupId + ".route")
                ) { _ in [:] }
            }
            var partitions: [TopicPartition] = []
            for topic in config.worker.topics.inputs {
                for p in 0..<Int32(try output.producer.partitionCount(topic)) {
                    partitions.append(TopicPartition(topic, p))
                }
            }
            let committed = try routeProbe!.committed(partitions, timeoutMs: 5_000)
            value = try partitions.allSatisfy { tp in
                let marks = try routeProbe!.watermarks(tp, timeoutMs: 5_000)
                return marks.high <= marks.low || (committed[tp] ?? -1) >= marks.high
            }
        } catch {
            logger.warning("cannot tell whether routing caught up", metadata: [LogKey.error: "\(error)"])
        }
        routeCaughtUpAnswer = (now, value)
        return value
    }

    override func assigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        let byTask = Dictionary(grouping: partitions, by: \.partition)
        let committed = (try? consumer.committed(partitions)) ?? [:]
        var start: [TopicPartition: Int64] = [:]
        let now = pipeline.clock()
        var toRestore: [Int32] = []
        for (p, lanes) in byTask.sorted(by: { $0.key < $1.key }) {
            // A task handed straight back is still current if nobody committed past it meanwhile.
            if let kept = suspended.removeValue(forKey: p), lanes.allSatisfy({ kept.positions[$0] == committed[$0] }) {
                tasks[p] = kept
                tasks[p]!.aligner.assign(lanes, now: now)
                for (tp, offset) in kept.positions { start[tp] = offset }
            } else {
                toRestore.append(p)
            }
        }
        suspended.removeAll()
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
                    maxIdleMillis: config.maxTaskIdleMillis)
                let lanes = byTask[p] ?? []
                for (tp, offset) in r.positions ?? [:] where lanes.contains(tp) {
                    start[tp] = offset
                    task.received[tp] = offset
                }
                task.aligner.assign(lanes, now: now)
                task.assignedAt = now
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

    override func revoking(_ partitions: [TopicPartition]) {
        finalReport = true
        for p in Set(partitions.map(\.partition)).sorted() where tasks[p] != nil {
            let task = tasks[p]!
            for (_, item) in task.aligner.drain() {
                apply(item.event, source: item.source, offset: item.offset, consumedAt: item.consumedAt, task: task) {
                    (item.key, item.raw)
                }
            }
        }
    }

    override func revoked(_ partitions: [TopicPartition]) {
        finalReport = false
        for p in Set(partitions.map(\.partition)) {
            if let task = tasks.removeValue(forKey: p), broken == nil { suspended[p] = task }
            for tp in partitions where tp.partition == p { pipeline.metrics?.forgetLag(tp) }
        }
    }

    override func drainAll() {
        finalReport = true
        for p in tasks.keys.sorted() {
            let task = tasks[p]!
            for (_, item) in task.aligner.drain() {
                apply(item.event, source: item.source, offset: item.offset, consumedAt: item.consumedAt, task: task) {
                    (item.key, item.raw)
                }
            }
            tasks[p]!.shard.emitProvisional(effects: &effects)
            publish(task: tasks[p]!)
            tasks[p]!.changed = true
        }
    }
}
