/// Reads what `BinaryWriter` wrote from an array it holds; any truncation or overflow is an
/// error, never a crash. The decoding itself is `BinaryCursor`'s, run over the array's bytes.
package struct BinaryReader {
    package struct Malformed: Error, CustomStringConvertible {
        package var description: String { "malformed binary state record" }
        package init() {}
    }

    private let bytes: [UInt8]
    private var at = 0

    package init(_ bytes: [UInt8]) { self.bytes = bytes }

    package var isAtEnd: Bool { at >= bytes.count }

    /// How many bytes have been read.
    package var position: Int { at }

    /// Runs one `BinaryCursor` read from the current position and moves past what it read.
    private mutating func read<T>(_ body: (inout BinaryCursor) throws(BinaryCursor.Malformed) -> T) throws(Malformed)
        -> T
    {
        let start = at
        let result = bytes.withUnsafeBytes { raw -> Result<(T, Int), BinaryCursor.Malformed> in
            var cursor = BinaryCursor(raw, at: start)
            do throws(BinaryCursor.Malformed) {
                return .success((try body(&cursor), cursor.at))
            } catch {
                return .failure(error)
            }
        }
        guard case .success(let (value, end)) = result else { throw Malformed() }
        at = end
        return value
    }

    package mutating func byte() throws(Malformed) -> UInt8 {
        try read { c throws(BinaryCursor.Malformed) in try c.byte() }
    }

    package mutating func unsigned() throws(Malformed) -> UInt64 {
        try read { c throws(BinaryCursor.Malformed) in try c.unsigned() }
    }

    package mutating func int() throws(Malformed) -> Int64 {
        try read { c throws(BinaryCursor.Malformed) in try c.int() }
    }

    package mutating func int32() throws(Malformed) -> Int32 {
        try read { c throws(BinaryCursor.Malformed) in try c.int32() }
    }

    package mutating func optionalInt() throws(Malformed) -> Int64? {
        switch try byte() {
        case 0: return nil
        case 1: return try int()
        default: throw Malformed()
        }
    }

    package mutating func bool() throws(Malformed) -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        default: throw Malformed()
        }
    }

    /// A count of elements still to read; bounded by the bytes left, so a corrupt count
    /// cannot make the caller reserve absurd memory.
    package mutating func count() throws(Malformed) -> Int {
        let n = try unsigned()
        guard n <= UInt64(bytes.count - at) else { throw Malformed() }
        return Int(n)
    }

    package mutating func string() throws(Malformed) -> String {
        try read { c throws(BinaryCursor.Malformed) in try c.string() }
    }
}
