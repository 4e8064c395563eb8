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
        // A sign and up to 19 digits, as JSON writes an integer.
        bytes.append(addingCapacity: 20) { JSONWriter.integer(n, &$0) }
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
