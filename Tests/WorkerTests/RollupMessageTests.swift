import Foundation
import SalesKPI
import Testing

@testable import Worker

/// The records aggregate tasks send the rollup stage: binary, and the earlier JSON form still read.
@Suite("Rollup messages")
struct RollupMessageTests {
    static func sample() -> [RollupMessage] {
        var aggregate = KPIAggregate()
        aggregate.applyWon(amount: Money(minorUnits: 1_234_567), cycleMillis: 3 * 86_400_000, sign: 1)
        aggregate.lost = 2
        aggregate.newCustomers = 5
        aggregate.activeCustomersStart = -1
        aggregate.spend = Money(minorUnits: 99)
        let window = Window(kind: 2, start: 1_767_196_800_000, end: 1_769_875_200_000)
        let summary = Summary(
            scope: .region("east"), window: window, windowName: "month", final: true, revision: 3,
            aggregate: aggregate, watermark: 1_769_875_300_000, target: nil, marketSize: nil)
        return [
            .summary(summary, partition: 4), .watermark(1_769_875_300_000, coverage: nil, partition: 4),
            .watermark(-5, coverage: 1_767_000_000_000, partition: 0), RollupMessage(partition: 7, idle: true),
        ]
    }

    func same(_ a: [RollupMessage], _ b: [RollupMessage]) -> Bool {
        a.count == b.count
            && zip(a, b).allSatisfy {
                $0.partition == $1.partition && $0.watermark == $1.watermark && $0.coverage == $1.coverage
                    && $0.idle == $1.idle && $0.window == $1.window && $0.region == $1.region && $0.final == $1.final
                    && $0.aggregate == $1.aggregate
            }
    }

    @Test("a batch reads back as written")
    func roundTrip() throws {
        let messages = Self.sample()
        let bytes = RollupMessage.batch(messages)
        #expect(bytes.first == RollupMessage.binaryVersion)
        #expect(same(try #require(RollupMessage.decodeBatch(bytes)), messages))
    }

    @Test("a JSON batch of the earlier form is still read")
    func json() throws {
        let messages = Self.sample()
        let bytes = Array(try JSONEncoder().encode(messages))
        #expect(same(try #require(RollupMessage.decodeBatch(bytes)), messages))
    }

    @Test("a truncated or foreign record is refused, not misread")
    func malformed() {
        let bytes = RollupMessage.batch(Self.sample())
        for cut in [1, 2, bytes.count / 2, bytes.count - 1] {
            #expect(RollupMessage.decodeBatch(Array(bytes.prefix(cut))) == nil, "cut at \(cut)")
        }
        #expect(RollupMessage.decodeBatch(Array("hello".utf8)) == nil)
        #expect(RollupMessage.decodeBatch([]) == nil)
    }
}
