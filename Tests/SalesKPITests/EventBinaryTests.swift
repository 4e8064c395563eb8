import SalesKPI
import TestSupport
import Testing
import Worker

@Suite("The binary form of decoded events")
struct EventBinaryTests {
    static func bytes(_ event: SalesEvent) -> [UInt8] {
        var w = BinaryWriter()
        event.write(to: &w)
        return w.bytes
    }

    @Test("every event reads back equal: each type, every optional field present or not, any text")
    func roundTrip() throws {
        var rng = seededGenerator(103)
        for _ in 0..<5_000 {
            let event = EventBuilder.random(using: &rng)
            let read = try Self.bytes(event).withUnsafeBytes { try SalesEvent(binary: $0) }
            #expect(read == event)
        }
    }

    @Test("a cut, lengthened or damaged form is refused or reads as some event, never crashes")
    func damaged() throws {
        var rng = seededGenerator(104)
        var refused = 0
        for _ in 0..<500 {
            let bytes = Self.bytes(EventBuilder.random(using: &rng))
            for cut in 0..<bytes.count {
                #expect(throws: BinaryCursor.Malformed.self) {
                    try Array(bytes[..<cut]).withUnsafeBytes { try SalesEvent(binary: $0) }
                }
            }
            #expect(throws: BinaryCursor.Malformed.self) {
                try (bytes + [0]).withUnsafeBytes { try SalesEvent(binary: $0) }
            }
            var flipped = bytes
            flipped[Int.random(in: 0..<flipped.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            if (try? flipped.withUnsafeBytes { try SalesEvent(binary: $0) }) == nil { refused += 1 }
        }
        #expect(refused > 0)
    }
}
