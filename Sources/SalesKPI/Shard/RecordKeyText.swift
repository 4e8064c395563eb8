/// Builds a changelog record key from its parts, as bytes: string interpolation of six parts
/// cost more than the record's value for the one key a closed window gets (scripts/bench.sh,
/// shard).
struct RecordKeyText {
    private var bytes: [UInt8] = []

    init(_ prefix: StaticString) {
        bytes.reserveCapacity(64)
        prefix.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// The first part, right after the prefix.
    mutating func first(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// The first part, right after the prefix: a number in decimal.
    mutating func first(_ n: Int64) {
        // A sign and up to 19 digits.
        bytes.append(addingCapacity: 20) { s in
            if n < 0 { s.append(UInt8(ascii: "-")) }
            let magnitude = n.magnitude
            var divisor: UInt64 = 1
            while divisor <= magnitude / 10 { divisor *= 10 }
            var rest = magnitude
            while divisor > 0 {
                s.append(UInt8(ascii: "0") + UInt8(rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
    }

    /// A further part, after the separator U+0001.
    mutating func part(_ text: String) {
        bytes.append(1)
        first(text)
    }

    mutating func part(_ n: Int64) {
        bytes.append(1)
        first(n)
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }
}
