/// A minimal JSON builder writing UTF-8 bytes: output records are flat and known, so no encoder
/// machinery, and bytes because they go straight to the producer (one summary per few events).
///
/// Each member is written with one capacity check (`put`): appending its bytes one by one
/// checked the array's uniqueness and capacity for every byte of a kilobyte summary, which made
/// encoding summaries a seventh of the aggregate stage's work.
package struct JSONWriter {
    package private(set) var bytes: [UInt8] = []
    /// Bit n: the container at depth n has a member already (a comma goes before the next).
    private var needsComma: UInt64 = 0
    private var depth = 0

    package init() { bytes.reserveCapacity(1024) }

    /// The output as text (logs).
    package var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Whether a comma goes before the next member of the current container.
    private mutating func nextMember() -> Bool {
        let bit: UInt64 = 1 << UInt64(depth)
        defer { needsComma |= bit }
        return needsComma & bit != 0
    }

    /// Writes one member: the comma, `"k":` (when a key is given) and at most `max` bytes of value.
    private mutating func put(_ k: StaticString?, max: Int, _ value: (inout OutputSpan<UInt8>) -> Void) {
        let comma = k != nil || depth > 0 ? nextMember() : false
        let keyBytes = k.map { $0.utf8CodeUnitCount + 3 } ?? 0
        bytes.append(addingCapacity: 1 + keyBytes + max) { s in
            if comma { s.append(UInt8(ascii: ",")) }
            if let k {
                s.append(UInt8(ascii: "\""))
                Self.literal(k, &s)
                s.append(UInt8(ascii: "\""))
                s.append(UInt8(ascii: ":"))
            }
            value(&s)
        }
    }

    /// Copied at once: appended byte by byte, each byte was checked against the span's
    /// capacity, and the keys are most of a summary's bytes.
    private static func literal(_ text: StaticString, _ s: inout OutputSpan<UInt8>) {
        text.withUTF8Buffer { source in
            s.withUnsafeMutableBufferPointer { buffer, initialized in
                // Traps, as `append` would, when the member was given too little room:
                // `copyMemory` checks the length only in debug builds.
                precondition(source.count <= buffer.count - initialized, "JSONWriter: key longer than its room")
                UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[initialized...]))
                    .copyMemory(from: UnsafeRawBufferPointer(source))
                initialized += source.count
            }
        }
    }

    private mutating func open(_ k: StaticString?, _ bracket: UInt8) {
        put(k, max: 1) { $0.append(bracket) }
        precondition(depth < 63, "JSON output nested too deeply")
        depth += 1
        needsComma &= ~(1 << UInt64(depth))
    }

    private mutating func close(_ bracket: UInt8) {
        depth -= 1
        bytes.append(bracket)
    }

    package mutating func beginObject(_ k: StaticString? = nil) { open(k, UInt8(ascii: "{")) }

    package mutating func endObject() { close(UInt8(ascii: "}")) }

    package mutating func beginArray(_ k: StaticString) { open(k, UInt8(ascii: "[")) }

    package mutating func endArray() { close(UInt8(ascii: "]")) }

    /// A `[a,b]` pair of integers as one array element.
    package mutating func pairElement(_ a: Int64, _ b: Int64) {
        put(nil, max: 43) { s in
            s.append(UInt8(ascii: "["))
            Self.integer(a, &s)
            s.append(UInt8(ascii: ","))
            Self.integer(b, &s)
            s.append(UInt8(ascii: "]"))
        }
    }

    package mutating func field(_ k: StaticString, _ v: String?) {
        guard let v else { return put(k, max: 4) { Self.literal("null", &$0) } }
        put(k, max: Self.quotedMax(v)) { Self.quote(v, &$0) }
    }

    /// A field whose name is only known at run time (log metadata).
    package mutating func field(dynamic k: String, _ v: String) {
        let comma = nextMember()
        bytes.append(addingCapacity: 2 + Self.quotedMax(k) + Self.quotedMax(v)) { s in
            if comma { s.append(UInt8(ascii: ",")) }
            Self.quote(k, &s)
            s.append(UInt8(ascii: ":"))
            Self.quote(v, &s)
        }
    }

    package mutating func field(_ k: StaticString, _ v: Int64) { put(k, max: 20) { Self.integer(v, &$0) } }

    package mutating func field(_ k: StaticString, _ v: Int) { field(k, Int64(v)) }

    package mutating func field(_ k: StaticString, _ v: Bool) {
        put(k, max: 5) { s in if v { Self.literal("true", &s) } else { Self.literal("false", &s) } }
    }

    /// A finite number in its shortest round-trip form (as `description` gives it), or null.
    package mutating func field(_ k: StaticString, _ v: Double?) {
        guard let v, v.isFinite else { return put(k, max: 4) { Self.literal("null", &$0) } }
        put(k, max: 0) { _ in }
        // Written through a text stream, straight into the output: `description` allocates a
        // string for most ratios (over 15 characters), five times per summary.
        var sink = ASCIISink()
        swap(&sink.bytes, &bytes)
        v.write(to: &sink)
        swap(&sink.bytes, &bytes)
    }

    /// Receives a number's digits as bytes: the standard library hands ASCII output to
    /// `_writeASCII` when a stream implements it (and makes a `String` for `write` otherwise, so
    /// the output is the same either way).
    private struct ASCIISink: TextOutputStream {
        var bytes: [UInt8] = []
        mutating func write(_ string: String) { bytes.append(contentsOf: string.utf8) }
        mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: buffer) }
    }

    /// `a`, the separator and `b` as one JSON string, without joining them first (a rep's scope
    /// id). The separator must be printable ASCII other than a quote or backslash.
    package mutating func field(_ k: StaticString, _ a: String, _ separator: UInt8, _ b: String) {
        precondition((0x20..<0x7F).contains(separator) && separator != 0x22 && separator != 0x5C)
        put(k, max: Self.quotedMax(a) + Self.quotedMax(b) + 1) { s in
            s.append(UInt8(ascii: "\""))
            Self.escape(a, &s)
            s.append(separator)
            Self.escape(b, &s)
            s.append(UInt8(ascii: "\""))
        }
    }

    /// Money as an exact decimal string: "1234.50".
    package mutating func field(_ k: StaticString, _ v: Money?) {
        guard let v else { return put(k, max: 4) { Self.literal("null", &$0) } }
        put(k, max: 26) { s in
            s.append(UInt8(ascii: "\""))
            if v.minorUnits < 0 { s.append(UInt8(ascii: "-")) }
            let magnitude = v.minorUnits.magnitude
            DecimalDigits.write(magnitude / 100, &s)
            s.append(UInt8(ascii: "."))
            DecimalDigits.two(Int(magnitude % 100), &s)
            s.append(UInt8(ascii: "\""))
        }
    }

    /// An RFC 3339 timestamp at a fixed UTC offset, or null.
    package mutating func field(_ k: StaticString, timestamp t: EpochMillis?, offsetSeconds: Int = 0) {
        guard let t else { return put(k, max: 4) { Self.literal("null", &$0) } }
        put(k, max: 1) { $0.append(UInt8(ascii: "\"")) }
        Timestamp.write(t, offsetSeconds: offsetSeconds, into: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// `v` in decimal (also changelog record keys, `RecordKeyText`).
    static func integer(_ v: Int64, _ s: inout OutputSpan<UInt8>) {
        if v < 0 { s.append(UInt8(ascii: "-")) }
        DecimalDigits.write(v.magnitude, &s)
    }

    /// The most bytes `quote` can write for `s`: every byte escaped as `\u00XX`, and the quotes.
    private static func quotedMax(_ s: String) -> Int { s.utf8.count * 6 + 2 }

    private static func quote(_ text: String, _ s: inout OutputSpan<UInt8>) {
        s.append(UInt8(ascii: "\""))
        escape(text, &s)
        s.append(UInt8(ascii: "\""))
    }

    /// The inside of `text`'s JSON string.
    private static func escape(_ text: String, _ s: inout OutputSpan<UInt8>) {
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                s.append(0x5C)
                s.append(b)
            case UInt8(ascii: "\n"):
                s.append(0x5C)
                s.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"):
                s.append(0x5C)
                s.append(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"):
                s.append(0x5C)
                s.append(UInt8(ascii: "t"))
            case 0..<0x20:
                let hex: StaticString = "0123456789abcdef"
                s.append(0x5C)
                s.append(UInt8(ascii: "u"))
                s.append(0x30)
                s.append(0x30)
                hex.withUTF8Buffer { h in
                    s.append(h[Int(b >> 4)])
                    s.append(h[Int(b & 15)])
                }
            default: s.append(b)
            }
        }
    }

    /// `s` as a JSON string, appended to `out`.
    package static func quote(_ s: String, into out: inout [UInt8]) {
        out.append(addingCapacity: quotedMax(s)) { quote(s, &$0) }
    }
}
