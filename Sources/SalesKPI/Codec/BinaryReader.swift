/// Reads what `BinaryWriter` wrote; any truncation or overflow is an error, never a crash.
package struct BinaryReader {
    package struct Malformed: Error, CustomStringConvertible {
        package var description: String { "malformed binary state record" }
        package init() {}
    }

    private let bytes: [UInt8]
    private var at = 0

    package init(_ bytes: [UInt8]) { self.bytes = bytes }

    package var isAtEnd: Bool { at >= bytes.count }

    package mutating func byte() throws(Malformed) -> UInt8 {
        guard at < bytes.count else { throw Malformed() }
        defer { at += 1 }
        return bytes[at]
    }

    package mutating func unsigned() throws(Malformed) -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw Malformed() }
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
        }
    }

    package mutating func int() throws(Malformed) -> Int64 {
        let u = try unsigned()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    package mutating func int32() throws(Malformed) -> Int32 {
        guard let v = Int32(exactly: try int()) else { throw Malformed() }
        return v
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
        let n = try count()
        defer { at += n }
        return String(decoding: bytes[at..<at + n], as: UTF8.self)
    }
}
