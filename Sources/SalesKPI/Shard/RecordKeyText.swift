/// Builds a changelog record key from its parts, as bytes: string interpolation of six parts
/// cost more than the record's value for the one key a closed window gets (scripts/bench.sh,
/// shard).
struct RecordKeyText {
    private var bytes: [UInt8] = []

    init(_ prefix: StaticString) {
        bytes.reserveCapacity(64)
        prefix.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends the separator and then the part.
    mutating func part(_ text: String) {
        bytes.append(1)
        bytes.append(contentsOf: text.utf8)
    }

    mutating func part(_ n: Int64) {
        bytes.append(1)
        number(n)
    }

    /// The first part, after the prefix, with no separator before it.
    mutating func first(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// The first part, after the prefix, with no separator before it.
    mutating func number(_ n: Int64) {
        if n < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = n.magnitude
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for k in stride(from: count - 1, through: 0, by: -1) { bytes.append(d[k]) }
        }
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }
}
