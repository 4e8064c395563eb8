import Kafka
import SalesKPI
import TestSupport
import Testing

@testable import Worker

@Suite("Event-time progress per source")
struct ProgressTests {
    let deals0 = TopicPartition("crm.deals", 0)
    let deals1 = TopicPartition("crm.deals", 1)
    let spend0 = TopicPartition("crm.spend", 0)

    @Test("a bounded run: a source ends at its recorded end, holds nothing back, and the task ends with all of them")
    func ended() throws {
        var tracker = SourceTracker(idleTimeout: 30_000)
        #expect(!tracker.isPastEnd(deals0, offset: 1_000_000), "an unbounded run has no end")
        tracker.ends = [deals0: 5, deals1: 0]
        tracker.assign([deals0, deals1], now: 0)
        #expect(!tracker.isPastEnd(deals0, offset: 4) && tracker.isPastEnd(deals0, offset: 5))
        #expect(tracker.isPastEnd(spend0, offset: 0), "a partition created after the start ends where it starts")
        tracker.reached(deals1, next: 0)
        tracker.forwarded(deals0, eventTime: 1_000)
        tracker.reached(deals0, next: 4)
        #expect(!tracker.allEnded)
        var task = TaskProgress(sources: [deals0, deals1])
        let bytes = ProgressRecord.encode(tracker.takeChanges())
        let announced = try bytes.withUnsafeBytes { try ProgressRecord.decode($0) }
        #expect(announced.map(\.ended) == [false, true])
        task.record(announced, now: 0)
        #expect(task.state == .at(1_000))
        tracker.reached(deals0, next: 5)
        // A message past the end does not make an ended source active again.
        tracker.received(deals0, now: 1)
        #expect(tracker.allEnded)
        task.record(tracker.takeChanges(), now: 1)
        #expect(task.state == .ended(1_000))
        #expect(TaskProgress(restoring: task.entries).entries == task.entries)
    }

    @Test("a task's event time is the minimum over every input partition; one never heard of holds it")
    func minimumOverSources() {
        var task = TaskProgress(sources: [deals0, deals1, spend0])
        task.record([SourceProgress(source: deals0, eventTime: 500, idle: false)], now: 0)
        task.record([SourceProgress(source: spend0, eventTime: 900, idle: false)], now: 0)
        #expect(task.state == .waiting)
        #expect(task.eventTime == nil)
        task.record([SourceProgress(source: deals1, eventTime: 300, idle: false)], now: 0)
        #expect(task.state == .at(300))
        // A faster instance's sources cannot move it past the slowest.
        task.record([SourceProgress(source: deals0, eventTime: 10_000, idle: false)], now: 0)
        #expect(task.eventTime == 300)
    }

    @Test("progress per source only grows: a new owner starting over does not take it back")
    func monotone() {
        var task = TaskProgress(sources: [deals0])
        task.record([SourceProgress(source: deals0, eventTime: 800, idle: false)], now: 0)
        task.record([SourceProgress(source: deals0, eventTime: 100, idle: false)], now: 0)
        #expect(task.eventTime == 800)
    }

    @Test("idle sources are left out; all idle: the furthest point, and since when")
    func idleness() {
        var task = TaskProgress(sources: [deals0, deals1, spend0])
        task.record(
            [
                SourceProgress(source: deals0, eventTime: 500, idle: false),
                SourceProgress(source: deals1, eventTime: .min, idle: true),
                SourceProgress(source: spend0, eventTime: 200, idle: true),
            ], now: 1_000)
        #expect(task.state == .at(500))
        #expect(task.allIdleSince == nil)
        task.record([SourceProgress(source: deals0, eventTime: 600, idle: true)], now: 2_000)
        #expect(task.state == .idle(600))
        #expect(task.allIdleSince == 2_000)
        task.record([SourceProgress(source: spend0, eventTime: 700, idle: false)], now: 3_000)
        #expect(task.state == .at(700))
        #expect(task.allIdleSince == nil)
        // A partition added to a topic holds the task until it is heard of.
        task.setSources([deals0, deals1, spend0, TopicPartition("crm.spend", 1)], now: 4_000)
        #expect(task.state == .waiting)
    }

    @Test("an owner announces progress, idleness after its leader confirms, and releases on revoke")
    func tracker() {
        var owner = SourceTracker(idleTimeout: 30_000)
        owner.assign([deals0, spend0], now: 0)
        #expect(
            owner.takeChanges() == [
                SourceProgress(source: deals0, eventTime: .min, idle: false),
                SourceProgress(source: spend0, eventTime: .min, idle: false),
            ])
        #expect(owner.takeChanges().isEmpty)
        owner.received(deals0, now: 1_000)
        owner.forwarded(deals0, eventTime: 5_000)
        owner.forwarded(deals0, eventTime: 4_000)
        #expect(owner.takeChanges().first == SourceProgress(source: deals0, eventTime: 5_000, idle: false))
        #expect(owner.idleCandidates(now: 29_999).isEmpty)
        #expect(owner.idleCandidates(now: 30_000) == [spend0])
        #expect(owner.idleCandidates(now: 31_000) == [deals0, spend0])
        owner.markIdle(spend0)
        #expect(owner.takeChanges().last == SourceProgress(source: spend0, eventTime: .min, idle: true))
        // Any message makes it active again.
        owner.received(spend0, now: 40_000)
        #expect(owner.takeChanges().last == SourceProgress(source: spend0, eventTime: .min, idle: false))
        owner.markIdle(deals0)
        #expect(owner.revoke([deals0]) == [SourceProgress(source: deals0, eventTime: 5_000, idle: false)])
        #expect(owner.all.map(\.source) == [spend0])
    }

    @Test(
        "runs of messages from partitions assigned, revoked and read in any order reach each partition's own position and progress"
    )
    func positionsAcrossRuns() {
        var rng = seededGenerator(29)
        let all = (0..<3).flatMap { t in (0..<4).map { TopicPartition("crm.t\(t)", Int32($0)) } }
        var positions = ReadPositions()
        var tracker = SourceTracker(idleTimeout: 30_000)
        var model: [TopicPartition: (next: Int64, eventTime: EpochMillis)] = [:]
        var assigned: Set<TopicPartition> = []
        var current = all[0]
        // One partition read, then the rest assigned at once (the tracker's table grows).
        tracker.assign([current], now: 0)
        assigned.insert(current)
        for step in 0..<20_000 {
            if step == 100 {
                let rest = all.filter { !assigned.contains($0) }
                tracker.assign(rest, now: 0)
                assigned.formUnion(rest)
            }
            switch step < 200 ? 99 : rng.next() % 100 {
            case 0..<1:
                // Partitions go (an eager rebalance revokes, then assigns; a stop only revokes).
                let going = all.filter { assigned.contains($0) && rng.next() % 2 == 0 }
                _ = tracker.revoke(going)
                for tp in going {
                    assigned.remove(tp)
                    positions[tp] = nil
                    model[tp] = nil
                }
            case 1..<2:
                let coming = all.filter { !assigned.contains($0) && rng.next() % 2 == 0 }
                tracker.assign(coming, now: 0)
                for tp in coming { assigned.insert(tp) }
            case 2..<12:
                // The next run comes from another partition, sometimes one not assigned.
                current = all[Int(rng.next() % UInt64(all.count))]
            default:
                let offset = (model[current]?.next ?? 0) + Int64(rng.next() % 3)
                let eventTime = EpochMillis(rng.next() % 1_000_000)
                positions.read(current, at: offset)
                tracker.received(current, now: EpochMillis(step), forwarding: eventTime)
                let before = model[current]?.eventTime ?? .min
                model[current] = (offset + 1, assigned.contains(current) ? max(before, eventTime) : before)
            }
        }
        #expect(positions.next == model.mapValues(\.next))
        let expected = model.filter { assigned.contains($0.key) }
        #expect(tracker.all.map(\.source) == assigned.sorted())
        #expect(tracker.all.allSatisfy { $0.eventTime == (expected[$0.source]?.eventTime ?? .min) })
    }
}
