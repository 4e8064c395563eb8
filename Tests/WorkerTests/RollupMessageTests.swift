import Foundation
import SalesKPI
import Testing

@testable import Worker

/// The records aggregate tasks send the rollup stage.
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
            .watermark(-5, coverage: 1_767_000_000_000, partition: 0), RollupMessage(partition: 7, emptyShard: true),
            .customers(at: 1_767_196_800_000, delta: -3, region: "east", partition: 2),
        ]
    }

    func same(_ a: [RollupMessage], _ b: [RollupMessage]) -> Bool {
        a.count == b.count
            && zip(a, b).allSatisfy {
                $0.partition == $1.partition && $0.watermark == $1.watermark && $0.coverage == $1.coverage
                    && $0.emptyShard == $1.emptyShard && $0.window == $1.window && $0.region == $1.region
                    && $0.final == $1.final
                    && $0.aggregate == $1.aggregate && $0.customers?.at == $1.customers?.at
                    && $0.customers?.delta == $1.customers?.delta
            }
    }

    @Test("a batch reads back as written")
    func roundTrip() throws {
        let messages = Self.sample()
        let batches = RollupMessage.batches(messages)
        #expect(batches.count == 1 && batches[0].first == RollupMessage.binaryVersion)
        #expect(same(try #require(RollupMessage.decodeBatch(batches[0])), messages))
    }

    @Test("many messages are split into records below the limit, read back in order")
    func split() throws {
        let messages = (0..<2_000).flatMap { _ in Self.sample() }
        let batches = RollupMessage.batches(messages, maxBytes: 16 * 1024)
        #expect(batches.count > 10)
        // A batch passes the limit by one message at most.
        #expect(batches.allSatisfy { $0.count < 16 * 1024 + 1_024 })
        let read = try batches.flatMap { try #require(RollupMessage.decodeBatch($0)) }
        #expect(same(read, messages))
    }

    @Test("a truncated or foreign record is refused, not misread")
    func malformed() {
        let bytes = RollupMessage.batches(Self.sample())[0]
        for cut in [1, 2, bytes.count / 2, bytes.count - 1] {
            #expect(RollupMessage.decodeBatch(Array(bytes.prefix(cut))) == nil, "cut at \(cut)")
        }
        #expect(RollupMessage.decodeBatch(Array("hello".utf8)) == nil)
        // The JSON form of an early draft never shipped: refused like any other version.
        #expect(RollupMessage.decodeBatch(Array("[{\"partition\":0}]".utf8)) == nil)
        #expect(RollupMessage.decodeBatch([]) == nil)
    }
}
