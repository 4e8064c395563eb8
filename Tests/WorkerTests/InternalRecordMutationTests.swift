import Kafka
import SalesKPI
import TestSupport
import Testing

@testable import Worker

/// The worker's own records on its internal topics are read back like any input: a damaged or
/// foreign record must be refused with an error, never crash the stage. Seeded mutations of
/// valid records (flipped bytes, cuts, insertions, duplicated spans), as libFuzzer mutates the
/// event decoder's input (scripts/fuzz.sh covers the domain's records the same way).
@Suite("Internal records under mutation")
struct InternalRecordMutationTests {
    static let seed: UInt64 = 20_261_203

    static func mutate(_ bytes: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = bytes
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            guard !b.isEmpty else { return [UInt8.random(in: 0...255, using: &rng)] }
            let at = Int.random(in: 0..<b.count, using: &rng)
            switch rng.next() % 5 {
            case 0: b[at] = UInt8.random(in: 0...255, using: &rng)
            case 1: b[at] ^= 1 << UInt8(rng.next() % 8)
            case 2: b.removeSubrange(at...)
            case 3: b.insert(contentsOf: [0xFF, 0xFF, 0xFF, 0xFF, 0x7F].prefix(Int(rng.next() % 5) + 1), at: at)
            default:
                let end = min(b.count, at + Int.random(in: 1...16, using: &rng))
                b.insert(contentsOf: b[at..<end], at: at)
            }
        }
        return b
    }

    @Test("routed batches, progress records and rollup batches: mutated, refused or read, never a crash")
    func mutations() {
        var rng = seededGenerator(Self.seed)
        var refused = 0
        var read = 0
        for round in 0..<3_000 {
            let batch = RoutedBatchTests.write(RoutedBatchTests.random(&rng))
            let progress = ProgressRecord.encode(
                (0..<Int.random(in: 1...8, using: &rng)).map { k in
                    SourceProgress(
                        source: TopicPartition("crm.deals", Int32(k)),
                        eventTime: Int64.random(in: -1...Int64(1) << 42, using: &rng), idle: rng.next() % 2 == 0)
                })
            let rollup = RollupMessage.batches(RollupMessageTests.sample())[0]
            for original in [batch, progress, rollup] {
                let damaged = Self.mutate(original, &rng)
                damaged.withUnsafeBytes { raw in
                    if let entries = try? RoutedBatch.entries(raw) {
                        read += 1
                        // Every range an entry names lies inside the record.
                        for e in entries {
                            #expect(e.raw.upperBound <= raw.count && e.event.upperBound <= raw.count, "round \(round)")
                            _ = try? SalesEvent(binary: UnsafeRawBufferPointer(rebasing: raw[e.event]))
                        }
                    } else {
                        refused += 1
                    }
                    if (try? ProgressRecord.decode(raw)) != nil { read += 1 } else { refused += 1 }
                }
                if RollupMessage.decodeBatch(damaged) != nil { read += 1 } else { refused += 1 }
            }
        }
        // Most damage is caught; some mutations leave a record that still reads.
        #expect(refused > read, "refused \(refused), read \(read)")
    }
}
