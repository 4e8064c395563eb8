import Foundation
import Kafka
import SalesKPI
import TestSupport
import Testing

@testable import Worker

/// The decoding thread must hand the stage exactly what the stage would have decoded itself,
/// whichever of the two decodes each message.
@Suite("Decoding ahead on a thread of its own")
struct DecodeAheadTests {
    static let now: EpochMillis = 1_767_600_000_000
    static let decoder: EventDecoder = {
        var limits = DecoderLimits()
        // Room for the slow message of `stageClaimsTheRest`.
        limits.maxPayloadBytes = 64 << 20
        return EventDecoder(
            fx: FXTable(reportingCurrency: "CNY", rates: ["USD": DecimalNumber.parse("7.10")!]), limits: limits)
    }()

    /// Valid events of every kind and rejected ones (malformed, unknown currency, dated too far
    /// ahead of `now`, empty), so outcomes differ from message to message.
    static func payload(_ n: Int, _ rng: inout SplitMix64) -> [UInt8] {
        let t = Timestamp.format(now - Int64(rng.next() % 86_400_000), offsetSeconds: 28_800)
        let text: String
        switch rng.next() % 8 {
        case 0:
            text =
                #"{"event_id":"w\#(n)","type":"deal.won","occurred_at":"\#(t)","region":"east","rep_id":"r\#(n % 7)","deal_id":"d\#(n)","amount":"\#(rng.next() % 90_000).25","currency":"USD","created_at":"\#(t)"}"#
        case 1:
            text =
                #"{"event_id":"c\#(n)","type":"customer.acquired","occurred_at":"\#(t)","region":"west","rep_id":"r1","customer_id":"c\#(n)"}"#
        case 2:
            text =
                #"{"event_id":"s\#(n)","type":"spend.recorded","occurred_at":"\#(t)","region":"west","rep_id":"r2","channel":"ads","amount":12,"currency":"JPY"}"#
        case 3: text = #"{"event_id":"x\#(n)","type":"deal.won""#
        case 4:
            let ahead = Timestamp.format(now + 3_600_000, offsetSeconds: 0)
            text =
                #"{"event_id":"f\#(n)","type":"deal.lost","occurred_at":"\#(ahead)","region":"east","rep_id":"r1","deal_id":"d\#(n)","created_at":"\#(ahead)"}"#
        case 5: text = ""
        case 6: text = #"{"event_id":"u\#(n)","type":"deal.renamed","occurred_at":"\#(t)","region":"east"}"#
        default:
            text =
                #"{"event_id":"l\#(n)","type":"deal.lost","occurred_at":"\#(t)","region":"east","rep_id":"r3","deal_id":"d\#(n)","created_at":"\#(t)"}"#
        }
        return Array(text.utf8)
    }

    /// Runs `body` with a batch of `payloads` as the consumer hands it over; a nil payload stands
    /// for an error in the batch.
    static func withBatch<R>(_ payloads: [[UInt8]?], _ body: (PolledBatch) throws -> R) rethrows -> R {
        let buffers = payloads.map { p in
            p.map { bytes -> UnsafeRawBufferPointer in
                let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
                bytes.withUnsafeBytes { copy.copyMemory(from: $0) }
                return UnsafeRawBufferPointer(copy)
            }
        }
        defer { for b in buffers { b?.deallocate() } }
        return try body(PolledBatch(buffers))
    }

    @Test(
        "batch after batch, with messages not taken and errors among them, the stage gets the outcomes it would decode")
    func sameOutcomes() {
        var rng = seededGenerator(19)
        let ahead = DecodeAhead(name: "test", decoder: Self.decoder, maxBatch: 2048)
        defer { ahead.stop() }
        var fromThread = 0
        var n = 0
        for round in 0..<300 {
            let count = Int(rng.next() % 2048) + 1
            let payloads: [[UInt8]?] = (0..<count).map { _ in
                n += 1
                return rng.next() % 50 == 0 ? nil : Self.payload(n, &rng)
            }
            Self.withBatch(payloads) { batch in
                let from = DecodeAhead.split(count)
                ahead.start(batch, from: from, now: Self.now)
                // Some rounds give the thread time to get ahead of the stage.
                if round % 3 == 0 { Thread.sleep(forTimeInterval: 0.002) }
                for k in 0..<count {
                    guard let bytes = batch.value(at: k), rng.next() % 10 != 0 else { continue }
                    let expected = Self.decoder.decode(bytes, now: Self.now)
                    if let outcome = ahead.outcome(at: k) {
                        fromThread += 1
                        #expect(outcome == expected, "round \(round), message \(k)")
                    }
                }
                ahead.finish()
            }
        }
        #expect(fromThread > 0, "the thread decoded nothing the stage took")
    }

    @Test(
        "a stage that reaches messages the thread has not claimed decodes the next few itself, and the thread goes on after them"
    )
    func stageClaimsTheNextFew() throws {
        let ahead = DecodeAhead(name: "test", decoder: Self.decoder, maxBatch: 256)
        defer { ahead.stop() }
        var rng = seededGenerator(23)
        // The thread's first message takes milliseconds to decode (an unknown field of 32 MiB);
        // the stage does not take it, and reaches the next one long before the thread can.
        let slow =
            Array(#"{"event_id":"big","note":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: 32 << 20)
            + Array(#"","type":"deal.lost"}"#.utf8)
        var payloads: [[UInt8]?] = (0..<256).map { Self.payload($0, &rng) }
        let from = DecodeAhead.split(256)
        let claimed = (from + 1)..<(from + 1 + DecodeAhead.split(256))
        payloads[from] = slow
        try Self.withBatch(payloads) { batch in
            ahead.start(batch, from: from, now: Self.now)
            for k in claimed {
                #expect(ahead.outcome(at: k) == nil, "message \(k) came from the thread")
            }
            // Meanwhile the thread ends the slow message, if it had claimed it, and goes on with
            // the messages after the stage's.
            Thread.sleep(forTimeInterval: 0.5)
            for k in claimed.upperBound..<256 {
                let expected = Self.decoder.decode(batch.value(at: k)!, now: Self.now)
                #expect(ahead.outcome(at: k) == expected, "message \(k) did not come from the thread")
            }
            let began = ContinuousClock.now
            ahead.finish()
            try #require(ContinuousClock.now - began < .seconds(60))
        }
        // The next batch is the thread's again.
        let next: [[UInt8]?] = (0..<256).map { Self.payload($0 + 1000, &rng) }
        Self.withBatch(next) { batch in
            ahead.start(batch, from: from, now: Self.now)
            Thread.sleep(forTimeInterval: 0.2)
            for k in from..<256 {
                #expect(ahead.outcome(at: k) == Self.decoder.decode(batch.value(at: k)!, now: Self.now))
            }
            ahead.finish()
        }
    }
}
