import TestSupport
import Testing

@testable import SalesKPI

@Suite("Decimal digits")
struct DecimalDigitsTests {
    /// Against the standard library's own decimal text, zero-padded by hand.
    static func reference(_ v: UInt64, width: Int) -> String {
        let digits = String(v)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    static func written(_ v: UInt64, width: Int) -> String {
        var bytes: [UInt8] = []
        bytes.append(addingCapacity: 20) { DecimalDigits.write(v, width: width, &$0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("integers are written as the standard library writes them, padded to their width")
    func matchesReference() {
        var rng = seededGenerator(31)
        var values: [UInt64] = [
            0, 1, 9, 10, 99, 100, 999, 1_000, UInt64.max, UInt64.max / 10, 10_000_000_000_000_000_000,
        ]
        for _ in 0..<5_000 {
            // Every length from 1 to 20 digits.
            values.append(rng.next() >> (rng.next() % 64))
        }
        for v in values {
            for width in [1, 2, 3, 4, 13, 20] {
                #expect(Self.written(v, width: width) == Self.reference(v, width: width), "\(v) width \(width)")
            }
        }
    }

    @Test("two-digit fields, and a value past 99 written whole")
    func twoDigits() {
        for v in [0, 5, 10, 59, 99, 100, 123] {
            var bytes: [UInt8] = []
            bytes.append(addingCapacity: 20) { DecimalDigits.two(v, &$0) }
            #expect(String(decoding: bytes, as: UTF8.self) == Self.reference(UInt64(v), width: 2))
        }
    }
}
