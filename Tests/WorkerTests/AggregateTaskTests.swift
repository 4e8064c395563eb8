import Kafka
import SalesKPI
import TestSupport
import Testing

@testable import Worker

/// A task's own decisions, without Kafka: when it advances, what a commit writes to its
/// changelog, and when the rollup stage hears of it (docs/guarantees.md, company windows).
@Suite("Aggregate task")
struct AggregateTaskTests {
    let source = TopicPartition("salespulse.internal", 0)
    /// Day windows in Asia/Shanghai, with one hour of allowed lateness.
    let lateness: EpochMillis = 3_600_000

    func makeTask() -> AggregateTask {
        AggregateTask(
            partition: 3, shard: ShardProcessor(settings: testSettings(["day"], lateness: lateness)),
            progress: TaskProgress(sources: [source]))
    }

    func announce(_ task: AggregateTask, _ time: String, idle: Bool = false, ended: Bool = false) {
        task.progress.record(
            [SourceProgress(source: source, eventTime: EventBuilder.t(time), idle: idle, ended: ended)], now: 0)
        task.progressChanged = true
    }

    @Test("a task with nothing at all says so once; a watermark is reported when it crosses a window boundary")
    func rollupReports() {
        let task = makeTask()
        task.progress.record([SourceProgress(source: source, eventTime: .min, idle: true)], now: 0)
        task.reportWatermark(everyStep: false)
        task.reportWatermark(everyStep: false)
        #expect(task.toRollup.count == 1)
        #expect(task.toRollup.first?.emptyShard == true && task.toRollup.first?.partition == 3)
        task.toRollup.removeAll()

        var events = EventBuilder()
        var effects: [ShardEffect] = []
        _ = task.shard.apply(events.won("d1", 500, at: "2026-03-02T10:00:00+08:00"), effects: &effects)
        announce(task, "2026-03-02T10:00:00+08:00")
        task.advance(effects: &effects)
        #expect(task.changed && !task.progressChanged)
        let first = EventBuilder.t("2026-03-02T10:00:00+08:00") - lateness
        #expect(task.shard.watermark == first)
        // The first watermark is always reported, with where the task's coverage starts.
        task.reportWatermark(everyStep: false)
        #expect(task.toRollup.count == 1)
        #expect(task.toRollup.first?.watermark == first && task.toRollup.first?.emptyShard == nil)
        #expect(task.toRollup.first?.coverage != nil && task.toRollup.first?.coverage == task.shard.coverageStart)
        task.toRollup.removeAll()

        // A step within the same day closes nothing the rollup could close: not reported...
        announce(task, "2026-03-02T18:00:00+08:00")
        task.advance(effects: &effects)
        task.reportWatermark(everyStep: false)
        #expect(task.toRollup.isEmpty)
        // ...unless the task is being revoked or stopped.
        task.reportWatermark(everyStep: true)
        #expect(task.toRollup.map(\.watermark) == [EventBuilder.t("2026-03-02T17:00:00+08:00")])
        task.toRollup.removeAll()

        // Past midnight in Shanghai (plus the lateness): the day window can close.
        announce(task, "2026-03-03T01:30:00+08:00")
        task.advance(effects: &effects)
        task.reportWatermark(everyStep: false)
        #expect(task.toRollup.map(\.watermark) == [EventBuilder.t("2026-03-03T00:30:00+08:00")])
        #expect(effects.contains { if case .summary(let s) = $0 { s.final } else { false } })
    }

    @Test("a commit writes the shard's changes, the progress once it moved, and a marker with the input position last")
    func changelog() throws {
        let task = makeTask()
        var events = EventBuilder()
        var effects: [ShardEffect] = []
        _ = task.shard.apply(events.won("d1", 500, at: "2026-03-02T10:00:00+08:00"), effects: &effects)
        announce(task, "2026-03-02T10:00:00+08:00")
        task.progressDirty = true
        task.received[source] = 42
        task.changed = true

        let records = task.takeChangelog()
        #expect(!task.changed && !task.progressDirty)
        #expect(records.contains { $0.key.hasPrefix("s|") || $0.key.hasPrefix("c|") }, "the shard's state")
        let progress = try #require(records.first { $0.key == AggregateTask.progressKey }?.value)
        let entries = try progress.withUnsafeBytes { try ProgressRecord.decode($0) }
        #expect(
            entries == [
                SourceProgress(source: source, eventTime: EventBuilder.t("2026-03-02T10:00:00+08:00"), idle: false)
            ])
        let marker = try #require(records.last)
        #expect(marker.key == ChangelogMarker.key)
        #expect(try ChangelogMarker.read(try #require(marker.value)).positions == [source: 42])

        // Nothing moved since: no progress record, the marker all the same.
        task.received[source] = 43
        let again = task.takeChangelog()
        #expect(!again.contains { $0.key == AggregateTask.progressKey })
        #expect(try ChangelogMarker.read(try #require(again.last?.value)).positions == [source: 43])
    }

    @Test("every source ended: the shard finishes and every open window gets its final")
    func ended() {
        let task = makeTask()
        var events = EventBuilder()
        var effects: [ShardEffect] = []
        _ = task.shard.apply(events.won("d1", 500, at: "2026-03-02T10:00:00+08:00"), effects: &effects)
        announce(task, "2026-03-02T10:00:00+08:00", ended: true)
        task.advance(effects: &effects)
        #expect(task.shard.finished && task.changed)
        let finals = effects.compactMap { if case .summary(let s) = $0, s.final { s } else { nil } }
        #expect(finals.contains { $0.scope.kind == .region && $0.aggregate.revenue == Money(minorUnits: 50_000) })
        // A finished task tells the rollup it holds nothing back.
        task.reportWatermark(everyStep: false)
        #expect(task.toRollup.map(\.watermark) == [EpochMillis.max])
    }
}
