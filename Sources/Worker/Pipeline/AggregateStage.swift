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
final class AggregateStage: Stage {
    var tasks: [Int32: AggregateTask] = [:]
    /// Tasks of the previous assignment, kept through an eager rebalance in case they come back.
    var suspended: [Int32: AggregateTask] = [:]
    var effects: [ShardEffect] = []
    /// Reading the route stage's internal topic (else the input topics, keyed by region).
    let routed: Bool
    /// Without the route stage this stage owns the input partitions and tracks their progress.
    var ownSources: SourceTracker
    /// Every partition of the input topics, from metadata.
    var inputPartitions: [TopicPartition] = []

    let io: StageIO

    init(io: StageIO) {
        self.io = io
        routed = io.config.worker.processing.routeStage
        ownSources = SourceTracker(idleTimeout: io.config.settings.idleTimeoutMillis)
        ownSources.ends = io.pipeline.endOffsets
    }

    /// The encoder's thread lives exactly as long as the run, which stops it: a stage built but
    /// never run (another one failed to connect) leaves no thread behind.
    func started() {
        let settings = io.config.settings
        io.summaryEncoder = SummaryEncoder(
            name: io.name, currency: settings.reportingCurrency, calendar: settings.calendar)
        // Raw events only (routed batches carry them decoded), and only with a core to spare:
        // with as many aggregate threads as cores, the thread took a core from another stage
        // (two aggregate threads on this 2-core machine: 340,136 events/s against 405,762 the
        // run before, scripts/bench.sh).
        if !routed, ProcessInfo.processInfo.activeProcessorCount > io.config.worker.processing.aggregateThreads {
            io.decodeAhead = DecodeAhead(
                name: io.name, decoder: io.config.decoder, maxBatch: io.config.worker.processing.pollBatch)
        }
    }

    func polled(_ batch: PolledBatch) {
        guard let decodeAhead = io.decodeAhead, batch.count >= DecodeAhead.minimumBatch else { return }
        decodeAhead.start(batch, from: DecodeAhead.split(batch.count), now: io.pollStarted)
    }

    func delivered() { io.decodeAhead?.finish() }

    /// Events per input message lately (a routed batch holds hundreds): a poll of `poll_batch`
    /// batches was up to the whole prefetch, over a second of work on a backlog.
    private var eventsPerMessage = 1.0
    private var lastScopeLimitWarning: EpochMillis?

    var pollLimit: Int {
        Self.pollLimit(events: io.config.worker.processing.pollBatch, eventsPerMessage: eventsPerMessage)
    }

    /// The messages of about `events` events, at least one.
    static func pollLimit(events: Int, eventsPerMessage: Double) -> Int {
        let messages = (Double(events) / max(1, eventsPerMessage)).rounded(.up)
        return max(1, min(events, Int(messages)))
    }

    func take(_ message: ConsumedMessage) {
        let tp = message.topicPartition
        guard let task = tasks[message.partition] else { return }
        // Input read without the route stage: this stage owns the bounded run's ends.
        if !routed, ownSources.isPastEnd(tp, offset: message.offset) { return }
        task.received.read(tp, at: message.offset)
        task.changed = true
        let consumedAt = io.pipeline.metrics == nil ? 0 : DispatchTime.now().uptimeNanoseconds
        if routed {
            takeRouted(message, task: task, consumedAt: consumedAt)
            return
        }
        io.counters.consumed += 1
        defer { ownSources.reached(tp, next: message.offset + 1) }
        eventsPerMessage += (1 - eventsPerMessage) / 8
        let outcome: DecodeOutcome
        if let ahead = io.decodeAhead?.outcome(at: message.position) {
            io.counters.decodedAhead += 1
            outcome = ahead
        } else {
            outcome = io.config.decoder.decode(message.value, now: io.pollStarted)
        }
        var eventTime: EpochMillis?
        if case .event(let event) = outcome { eventTime = event.occurredAt }
        ownSources.received(tp, now: io.pollStarted, forwarding: eventTime)
        take(
            outcome, message.value, key: message.key, source: tp, offset: message.offset, consumedAt: consumedAt,
            task: task)
    }

    func skip(_ message: ConsumedMessage) {
        guard let task = tasks[message.partition] else { return }
        task.received.read(message.topicPartition, at: message.offset)
        task.changed = true
    }

    /// A routed batch is dead-lettered as the raw events it holds, each with its own source.
    func unprocessable(_ message: ConsumedMessage, detail: String) {
        guard routed, !ProgressRecord.isRecord(message.value), let entries = try? RoutedBatch.entries(message.value)
        else { return io.deadLetterUnprocessable(message, detail: detail) }
        for entry in entries {
            io.deadLetter(
                Rejection(.unprocessable, detail), source: entry.source, offset: entry.offset,
                key: entry.key.map { Array(message.value[$0]) }, value: Array(message.value[entry.raw]))
        }
    }

    /// A routed batch of events or a route instance's progress record.
    private func takeRouted(_ message: ConsumedMessage, task: AggregateTask, consumedAt: UInt64) {
        let tp = message.topicPartition
        if ProgressRecord.isRecord(message.value) {
            do {
                task.progress.record(try ProgressRecord.decode(message.value), now: io.pollStarted)
                task.progressChanged = true
                task.progressDirty = true
            } catch {
                io.deadLetter(
                    Rejection(.unreadableBatch, "\(error)"), source: tp, offset: message.offset,
                    key: message.key.map { Array($0) }, value: Array(message.value))
            }
            return
        }
        let entries: [RoutedBatch.Entry]
        do {
            entries = try RoutedBatch.entries(message.value)
        } catch {
            io.deadLetter(
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
                .map(DecodeOutcome.event) ?? io.config.decoder.decode(raw, now: io.pollStarted)
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
            io.counters.unknownTypes += 1
        case .rejected(let rejection):
            io.deadLetter(rejection, source: source, offset: offset, key: key.map { Array($0) }, value: Array(value))
        }
    }

    func afterPoll(now: EpochMillis) {
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
        task.advance(effects: &effects)
        publish(task: task)
    }

    /// Every task finished and the rollup told so; without the route stage, every input
    /// partition this stage reads ended too.
    func isFinished() -> Bool {
        (routed || ownSources.allEnded)
            && tasks.values.allSatisfy { $0.shard.finished && $0.reported == .max && $0.toRollup.isEmpty }
    }

    /// Applies one event to its task's shard; `bytes` gives the original key and value, only
    /// needed when the event turns out to be late.
    private func apply(
        _ event: SalesEvent, source: TopicPartition, offset: Int64, consumedAt: UInt64, task: AggregateTask,
        bytes: () -> (key: [UInt8]?, value: [UInt8])
    ) {
        io.counters.aggregated += 1
        let disposition = task.shard.apply(event, effects: &effects)
        switch disposition {
        case .counted, .timeOnly: io.eventCounts.add(event.type)
        case .duplicate: io.counters.duplicates += 1
        case .superseded:
            io.eventCounts.add(event.type)
            io.counters.superseded += 1
        case .late:
            let watermark = task.shard.watermark
            let (key, value) = bytes()
            io.deadLetter(
                Rejection(
                    .late,
                    "occurred_at is \((watermark - event.occurredAt) / 1000)s behind the watermark \(Timestamp.format(watermark))"
                ),
                source: source, offset: offset, key: key, value: value)
        case .rejected(let rejection):
            let (key, value) = bytes()
            if rejection.reason == .scopeLimit { warnScopeLimit(rejection) }
            io.deadLetter(rejection, source: source, offset: offset, key: key, value: value)
        }
        if let metrics = io.pipeline.metrics {
            metrics.recordLatency(nanoseconds: Int64(DispatchTime.now().uptimeNanoseconds - consumedAt))
        }
        publish(task: task)
    }

    /// One warning a minute at most: past the limit every event of a new scope is refused.
    private func warnScopeLimit(_ rejection: Rejection) {
        if let last = lastScopeLimitWarning, io.pollStarted - last < 60_000 { return }
        lastScopeLimitWarning = io.pollStarted
        io.logger.warning(
            "events of new scopes refused (scope_limit)",
            metadata: [LogKey.stage: "\(io.name)", LogKey.error: "\(rejection.detail)"])
    }

    /// Publishes queued effects; region summaries also go to the rollup stage.
    private func publish(task: AggregateTask) {
        guard !effects.isEmpty else { return }
        task.changed = true
        for effect in effects {
            switch effect {
            case .summary(let summary) where summary.scope.kind == .region:
                io.publish(effect)
                if summary.final, !summary.revised {
                    io.counters.windowsClosedByKind[summary.windowName, default: 0] += 1
                }
                task.toRollup.append(.summary(summary, partition: task.partition))
            case .summary, .alert:
                io.publish(effect)
            case .customers(let region, let time, let delta):
                task.toRollup.append(.customers(at: time, delta: delta, region: region, partition: task.partition))
            }
        }
        effects.removeAll(keepingCapacity: true)
    }

    func tick(now: EpochMillis) {
        if !routed {
            io.watch(&ownSources, now: now) { [self] tp in
                tasks[tp.partition].flatMap { $0.received[tp] ?? $0.started[tp] } ?? 0
            }
            takeOwnProgress(now: now)
        }
        for (_, task) in tasks.sorted(by: { $0.key < $1.key }) {
            if task.progressChanged { advance(task) }
            task.shard.tick(now: now, idleSince: task.progress.allIdleSince, effects: &effects)
            publish(task: task)
            countEvictions(task)
        }
        io.counters.companyWatermark = tasks.values.map(\.shard.watermark).min() ?? .min
    }

    /// Rep scopes the task's shard dropped as idle since the last look: a metric and a log line.
    private func countEvictions(_ task: AggregateTask) {
        let n = task.shard.evictedReps - task.evictionsCounted
        guard n > 0 else { return }
        task.evictionsCounted = task.shard.evictedReps
        io.counters.repsEvicted += n
        io.logger.info(
            "idle rep scopes dropped",
            metadata: [LogKey.stage: "\(io.name)", LogKey.partitions: "\(task.partition)", LogKey.records: "\(n)"])
    }

    func prepareCommit() -> [TopicPartition: Int64] { flushTasks() }

    /// Set while revoking or stopping: every watermark is reported, however small the step.
    var finalReport = false

    func assigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] { assignTasks(partitions) }

    func revoking(_ partitions: [TopicPartition]) {
        finalReport = true
    }

    func revoked(_ partitions: [TopicPartition]) {
        finalReport = false
        if !routed { _ = ownSources.revoke(partitions) }
        for p in Set(partitions.map(\.partition)) {
            if let task = tasks.removeValue(forKey: p), io.broken == nil { suspended[p] = task }
        }
    }

    func reportLag() {
        var next: [TopicPartition: Int64] = [:]
        for task in tasks.values { next.merge(task.received.next) { $1 } }
        // Event times are known per input partition only when this stage reads the input itself.
        io.reportLag(next) { routed ? nil : ownSources.sources[$0]?.eventTime }
    }

    func drainAll() {
        finalReport = true
        for (_, task) in tasks.sorted(by: { $0.key < $1.key }) {
            task.shard.emitProvisional(effects: &effects)
            publish(task: task)
            task.changed = true
        }
    }
}
