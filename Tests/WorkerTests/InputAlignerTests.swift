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

    @Test("equal event times leave by partition, whichever lane was assigned first")
    func ties() {
        var aligner = InputAligner(pauseThreshold: 100)
        aligner.assign([spend, deals], now: 0)
        _ = aligner.push(spend, pending(spend, at: 10, offset: 0))
        _ = aligner.push(deals, pending(deals, at: 10, offset: 0))
        var order: [TopicPartition] = []
        while let (tp, _, _) = aligner.next(now: 0, caughtUp: { _ in true }) { order.append(tp) }
        #expect(order == [deals, spend])
    }

    @Test("a lane pauses at the threshold once and resumes at a quarter of it")
    func pauseAndResume() {
        var aligner = InputAligner(pauseThreshold: 8)
        aligner.assign([deals], now: 0)
        let pauses = (0..<12).map { aligner.push(deals, pending(deals, at: EpochMillis($0), offset: Int64($0))) }
        #expect(pauses == (0..<12).map { $0 == 7 })
        var resumes: [Int] = []
        var k = 0
        while let (_, _, resume) = aligner.next(now: 0, caughtUp: { _ in true }) {
            if resume { resumes.append(k) }
            k += 1
        }
        // 12 buffered: the tenth release leaves 2 (= 8 / 4).
        #expect(resumes == [9])
    }

    /// The merge against a plain reference: per lane in push order, the earliest head first
    /// (ties by partition), with random pushes, releases and revocations interleaved.
    @Test("random pushes, releases and revocations merge like the reference")
    func randomMerge() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let all = (0..<5).map { TopicPartition($0 % 2 == 0 ? "crm.deals" : "crm.spend", Int32($0)) }
            var aligner = InputAligner(pauseThreshold: 1_000)
            aligner.assign(all, now: 0)
            var model: [TopicPartition: [InputAligner.Pending]] = Dictionary(uniqueKeysWithValues: all.map { ($0, []) })
            var nextOffset: [TopicPartition: Int64] = [:]
            for _ in 0..<300 {
                let tp = all.randomElement(using: &rng)!
                switch Int.random(in: 0..<10, using: &rng) {
                case 0..<6:
                    guard model[tp] != nil else { continue }
                    let offset = nextOffset[tp, default: 0]
                    nextOffset[tp] = offset + 1
                    let item = pending(tp, at: EpochMillis.random(in: 0..<50, using: &rng), offset: offset)
                    _ = aligner.push(tp, item)
                    model[tp]!.append(item)
                case 6..<9:
                    // Released only while every lane holds something (none may be behind).
                    let got = aligner.next(now: 0, caughtUp: { _ in false })
                    let ready = model.values.allSatisfy { !$0.isEmpty } && !model.isEmpty
                    guard ready else {
                        #expect(got == nil)
                        continue
                    }
                    let want = model.min { a, b in
                        let (x, y) = (a.value[0].event.occurredAt, b.value[0].event.occurredAt)
                        return x != y ? x < y : a.key < b.key
                    }!.key
                    let expected = model[want]!.removeFirst()
                    #expect(got?.0 == want && got?.1.offset == expected.offset)
                default:
                    guard let held = model.removeValue(forKey: tp) else { continue }
                    #expect(aligner.revoke([tp]).map(\.offset) == held.map(\.offset))
                }
                for (lane, items) in model {
                    #expect(aligner.firstBufferedOffset(lane) == items.first?.position)
                }
                #expect(aligner.buffered == model.values.reduce(0) { $0 + $1.count })
                #expect(Set(aligner.lanes) == Set(model.keys))
            }
        }
    }
}
