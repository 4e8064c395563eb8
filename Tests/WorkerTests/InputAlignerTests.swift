import Kafka
import SalesKPI
import Testing

@testable import Worker

/// The event-time merge of input partitions, without a broker: `caughtUp` stands in for the
/// leader's answer.
@Suite("Input aligner")
struct InputAlignerTests {
    let deals = TopicPartition("crm.deals", 0)
    let spend = TopicPartition("crm.spend", 0)

    func pending(_ tp: TopicPartition, at t: EpochMillis, offset: Int64, arrived: EpochMillis = 0)
        -> InputAligner.Pending
    {
        InputAligner.Pending(
            source: tp, event: SalesEvent(eventId: "e\(t)", type: .spendRecorded, occurredAt: t, region: "east"),
            offset: offset, position: offset, key: nil, raw: [], consumedAt: 0, arrivedAt: arrived)
    }

    func released(_ aligner: inout InputAligner, now: EpochMillis, caughtUp: Bool?) -> [EpochMillis] {
        var out: [EpochMillis] = []
        while let (_, item, _) = aligner.next(now: now, caughtUp: { _ in caughtUp }) {
            out.append(item.event.occurredAt)
        }
        return out
    }

    @Test("events leave in event-time order across partitions")
    func ordered() {
        var aligner = InputAligner(pauseThreshold: 100)
        aligner.assign([deals, spend], now: 0)
        for (k, t) in [10, 30, 50].enumerated() {
            _ = aligner.push(deals, pending(deals, at: EpochMillis(t), offset: Int64(k)))
        }
        for (k, t) in [20, 40].enumerated() {
            _ = aligner.push(spend, pending(spend, at: EpochMillis(t), offset: Int64(k)))
        }
        // Once spend is drained the rest waits, unless the broker says spend holds nothing more.
        #expect(released(&aligner, now: 0, caughtUp: false) == [10, 20, 30, 40])
        #expect(released(&aligner, now: 0, caughtUp: nil) == [])
        #expect(released(&aligner, now: 0, caughtUp: true) == [50])
    }

    @Test("an empty lane behind its leader holds the others back for two minutes at most")
    func behind() {
        var aligner = InputAligner(pauseThreshold: 100)
        aligner.assign([deals, spend], now: 0)
        _ = aligner.push(deals, pending(deals, at: 10, offset: 0))
        #expect(released(&aligner, now: 1_000, caughtUp: false) == [])
        #expect(released(&aligner, now: 119_999, caughtUp: nil) == [])
        #expect(released(&aligner, now: 120_000, caughtUp: nil) == [10])
        #expect(aligner.takeOverdue() == [spend])
    }

    @Test("max_task_idle: an event waits that long after its arrival for caught-up empty lanes")
    func idleAllowance() {
        var aligner = InputAligner(pauseThreshold: 100, maxIdleMillis: 2_000)
        aligner.assign([deals, spend], now: 0)
        // Spend has been empty for a minute; deals gets a burst: it waits from its arrival.
        _ = aligner.push(deals, pending(deals, at: 50, offset: 0, arrived: 60_000))
        _ = aligner.push(deals, pending(deals, at: 60, offset: 1, arrived: 60_000))
        #expect(released(&aligner, now: 60_000, caughtUp: true) == [])
        // Spend's producer delivers earlier events within the allowance: they go first, and
        // the burst, having waited its allowance, goes on without waiting again.
        _ = aligner.push(spend, pending(spend, at: 20, offset: 0, arrived: 61_000))
        #expect(released(&aligner, now: 61_000, caughtUp: true) == [20])
        #expect(released(&aligner, now: 61_999, caughtUp: true) == [])
        #expect(released(&aligner, now: 62_000, caughtUp: true) == [50, 60])
        // Without an empty lane nothing waits.
        _ = aligner.push(deals, pending(deals, at: 70, offset: 2, arrived: 62_000))
        _ = aligner.push(spend, pending(spend, at: 80, offset: 1, arrived: 62_000))
        #expect(released(&aligner, now: 62_000, caughtUp: true) == [70])
        #expect(aligner.takeOverdue().isEmpty)
    }

    @Test("shutdown drains everything without waiting")
    func drain() {
        var aligner = InputAligner(pauseThreshold: 100, maxIdleMillis: 2_000)
        aligner.assign([deals, spend], now: 0)
        _ = aligner.push(deals, pending(deals, at: 50, offset: 0))
        _ = aligner.push(deals, pending(deals, at: 70, offset: 1))
        #expect(aligner.drain().map(\.1.event.occurredAt) == [50, 70])
    }
}
