/// A minimal JSON builder writing UTF-8 bytes: output records are flat and known, so no encoder
/// machinery, and bytes because they go straight to the producer (one summary per few events).
package struct JSONWriter {
    package private(set) var bytes: [UInt8] = []
    /// Bit n: the container at depth n has a member already (a comma goes before the next).
    /// Bits rather than an array of flags: this is checked for every field of every summary.
    private var needsComma: UInt64 = 0
    private var depth = 0

    package init() { bytes.reserveCapacity(1024) }

    /// The output as text (logs).
    package var text: String { String(decoding: bytes, as: UTF8.self) }

    private mutating func separator() {
        let bit: UInt64 = 1 << UInt64(depth)
        if needsComma & bit != 0 { bytes.append(UInt8(ascii: ",")) }
        needsComma |= bit
    }

    private mutating func open(_ bracket: UInt8) {
        bytes.append(bracket)
        precondition(depth < 63, "JSON output nested too deeply")
        depth += 1
        needsComma &= ~(1 << UInt64(depth))
    }

    private mutating func close(_ bracket: UInt8) {
        depth -= 1
        bytes.append(bracket)
    }

    private mutating func key(_ k: StaticString) {
        separator()
        bytes.append(UInt8(ascii: "\""))
        k.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    private mutating func key(_ k: String) {
        separator()
        JSONWriter.quote(k, into: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    private mutating func raw(_ s: StaticString) { s.withUTF8Buffer { bytes.append(contentsOf: $0) } }

    package mutating func beginObject(_ k: StaticString? = nil) {
        if let k { key(k) } else if depth > 0 { separator() }
        open(UInt8(ascii: "{"))
    }

    package mutating func endObject() { close(UInt8(ascii: "}")) }

    package mutating func beginArray(_ k: StaticString) {
        key(k)
        open(UInt8(ascii: "["))
    }

    package mutating func endArray() { close(UInt8(ascii: "]")) }

    /// A `[a,b]` pair of integers as one array element.
    package mutating func pairElement(_ a: Int64, _ b: Int64) {
        separator()
        bytes.append(UInt8(ascii: "["))
        integer(a)
        bytes.append(UInt8(ascii: ","))
        integer(b)
        bytes.append(UInt8(ascii: "]"))
    }

    package mutating func field(_ k: StaticString, _ v: String?) {
        key(k)
        if let v { JSONWriter.quote(v, into: &bytes) } else { raw("null") }
    }

    /// A field whose name is only known at run time (log metadata).
    package mutating func field(dynamic k: String, _ v: String) {
        key(k)
        JSONWriter.quote(v, into: &bytes)
    }

    package mutating func field(_ k: StaticString, _ v: Int64) {
        key(k)
        integer(v)
    }

    package mutating func field(_ k: StaticString, _ v: Int) { field(k, Int64(v)) }

    package mutating func field(_ k: StaticString, _ v: Bool) {
        key(k)
        if v { raw("true") } else { raw("false") }
    }

    package mutating func field(_ k: StaticString, _ v: Double?) {
        key(k)
        if let v, v.isFinite { bytes.append(contentsOf: String(v).utf8) } else { raw("null") }
    }

    /// Money as an exact decimal string: "1234.50".
    package mutating func field(_ k: StaticString, _ v: Money?) {
        key(k)
        guard let v else { return raw("null") }
        bytes.append(UInt8(ascii: "\""))
        if v.minorUnits < 0 { bytes.append(UInt8(ascii: "-")) }
        let magnitude = v.minorUnits.magnitude
        unsignedInteger(magnitude / 100)
        bytes.append(UInt8(ascii: "."))
        bytes.append(UInt8(ascii: "0") + UInt8(magnitude % 100 / 10))
        bytes.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
        bytes.append(UInt8(ascii: "\""))
    }

    /// An RFC 3339 timestamp at a fixed UTC offset, or null.
    package mutating func field(_ k: StaticString, timestamp t: EpochMillis?, offsetSeconds: Int = 0) {
        key(k)
        guard let t else { return raw("null") }
        bytes.append(UInt8(ascii: "\""))
        Timestamp.write(t, offsetSeconds: offsetSeconds, into: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func integer(_ v: Int64) {
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        unsignedInteger(v.magnitude)
    }

    private mutating func unsignedInteger(_ v: UInt64) {
        guard v >= 10 else { return bytes.append(UInt8(ascii: "0") + UInt8(v)) }
        unsignedInteger(v / 10)
        bytes.append(UInt8(ascii: "0") + UInt8(v % 10))
    }

    package static func quote(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Ids, names and kinds almost never need escaping: copied whole when they do not.
        var s = s
        let plain = s.withUTF8 { utf8 in
            guard utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) else {
                return false
            }
            out.append(contentsOf: utf8)
            return true
        }
        if plain { return out.append(UInt8(ascii: "\"")) }
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case UInt8(ascii: "\n"): out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
