import TestSupport
import Testing

@testable import SalesKPI

@Suite("Event id fingerprints")
struct DedupeFingerprintTests {
    /// The reference implementation's 128-bit vectors (veorq/SipHash, vectors.h,
    /// `vectors_sip128`): key 00 01 … 0f, the input of length n is 00 01 … n-1; the 16 output
    /// bytes are read here as two little-endian words.
    @Test("SipHash-2-4 with a 128-bit output gives the reference implementation's vectors")
    func referenceVectors() {
        let key = SipHash128(k0: 0x0706_0504_0302_0100, k1: 0x0f0e_0d0c_0b0a_0908)
        let vectors: [(Int, UInt64, UInt64)] = [
            (0, 0xe6a8_25ba_047f_81a3, 0x9302_55c7_1472_f66d),
            (1, 0x44af_996b_d8c1_87da, 0x45fc_229b_1159_7634),
            (7, 0x53c1_dbd8_beeb_f1a1, 0x3982_f01f_a64a_b8c0),
            (8, 0x61f5_5862_baa9_623b, 0xb497_14f3_64e2_830f),
            (15, 0x11a8_b033_99e9_9354, 0xd9c3_cf97_0fec_087e),
            (16, 0xbb54_b067_caa4_e26e, 0x7705_2385_bf15_33fd),
            (63, 0x4a83_502f_77d1_5051, 0x7cbd_3f97_9a06_3e50),
        ]
        for (length, low, high) in vectors {
            let input = (0..<length).map { UInt8($0) }
            let hash = input.withUnsafeBufferPointer { key.hash($0) }
            #expect(hash.low == low && hash.high == high, "length \(length)")
        }
    }

    /// Fingerprints made to share their low bits, so probe chains are long and wrap around the
    /// end of the table, and removals shift them back; half of them with small high words, so
    /// their tags are equal and only the whole fingerprint tells them apart; and the all-zero
    /// fingerprint, which the tags let the set store like any other. Checked against Swift's
    /// `Set`.
    @Test("the fingerprint set holds what a Set holds through inserts and removals")
    func setMatchesModel() {
        var rng = seededGenerator(29)
        var set = FingerprintSet()
        var model = Set<EventFingerprint>()
        var universe: [EventFingerprint] = []
        for _ in 0..<800 {
            // Low words in a narrow range of buckets near the top of any power-of-two table.
            let low = UInt64.max - rng.next() % 128
            let high = rng.next() % 2 == 0 ? rng.next() | 1 : rng.next() % 1_000 + 1
            universe.append(EventFingerprint(low: low, high: high))
        }
        universe.append(EventFingerprint(low: 0, high: 0))
        for step in 0..<20_000 {
            let f = universe[Int(rng.next() % UInt64(universe.count))]
            if rng.next() % 3 == 0 {
                set.remove(f)
                model.remove(f)
            } else {
                let inserted = set.insert(f)
                #expect(inserted == model.insert(f).inserted)
            }
            if step % 997 == 0 {
                #expect(set.count == model.count)
                #expect(universe.allSatisfy { set.contains($0) == model.contains($0) })
            }
        }
        #expect(universe.allSatisfy { set.contains($0) == model.contains($0) })
    }

    @Test("ids are told apart by their bytes, however long, and forgotten past the horizon")
    func idsByBytes() {
        var window = DedupeWindow()
        let composed = "deal-caf\u{E9}"
        let decomposed = "deal-cafe\u{301}"
        #expect(composed == decomposed)  // one text to Swift, two ids on the wire
        let long = String(repeating: "0123456789abcdef", count: 64)
        for (k, id) in [composed, decomposed, long, long + "x"].enumerated() {
            let inserted = window.insert(id, at: EpochMillis(k))
            #expect(inserted)
        }
        let again = window.insert(long, at: 10)
        #expect(!again)
        #expect(window.count == 4)
        _ = window.takeChanges()
        window.prune(olderThan: 100)
        #expect(window.count == 0)
        #expect(!window.contains(long) && !window.contains(composed))
        let afterHorizon = window.insert(long, at: 200)
        #expect(afterHorizon)
    }
}
