/// Reads `BinaryWriter`'s encoding straight from borrowed bytes (a consumed message's payload),
/// where `BinaryReader` needs an array of its own. Any truncation or overflow is an error,
/// never a crash. Only valid while the bytes it reads are.
package struct BinaryCursor {
    package struct Malformed: Error, CustomStringConvertible {
        package var description: String
        package init(_ description: String) { self.description = description }
    }

    package let bytes: UnsafeRawBufferPointer
    package private(set) var at: Int

    package init(_ bytes: UnsafeRawBufferPointer, at: Int = 0) {
        self.bytes = bytes
        self.at = at
    }

    package var isAtEnd: Bool { at >= bytes.count }

    package mutating func byte() throws(Malformed) -> UInt8 {
        guard at < bytes.count else { throw Malformed("truncated at byte \(at)") }
        defer { at += 1 }
        return bytes[at]
    }

    package mutating func unsigned() throws(Malformed) -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard at < bytes.count, shift < 64 else { throw Malformed("truncated varint at byte \(at)") }
            let b = bytes[at]
            at += 1
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
        guard let v = Int32(exactly: try int()) else { throw Malformed("value out of range at byte \(at)") }
        return v
    }

    /// The range of the next `n` bytes, which are skipped.
    package mutating func range(_ n: UInt64) throws(Malformed) -> Range<Int> {
        guard n <= UInt64(bytes.count - at) else { throw Malformed("length \(n) past the end at byte \(at)") }
        defer { at += Int(n) }
        return at..<at + Int(n)
    }

    /// A length-prefixed string (`BinaryWriter.string`).
    package mutating func string() throws(Malformed) -> String {
        let r = try range(try unsigned())
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[r]), as: UTF8.self)
    }
}
