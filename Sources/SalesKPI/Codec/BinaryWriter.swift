/// A compact byte encoding for changelog records: zigzag varints and length-prefixed UTF-8.
///
/// State records are written at every commit and read back on every restore, so they avoid
/// Foundation's JSON coders, which cost more than all the KPI arithmetic put together.
package struct BinaryWriter {
    package private(set) var bytes: [UInt8] = []

    package init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    package mutating func byte(_ b: UInt8) { bytes.append(b) }

    /// Bytes as they are, without a length (the caller wrote one).
    package mutating func raw(_ b: some Collection<UInt8>) { bytes.append(contentsOf: b) }

    // Concrete forms of `raw` for the hot callers in other modules, where the generic one is
    // not specialized: it ran byte by byte through generic metadata, a quarter of the route
    // stage's work.
    package mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    package mutating func raw(_ b: UnsafeRawBufferPointer) { bytes.append(contentsOf: b) }
    package mutating func raw(_ s: String) {
        var s = s
        s.withUTF8 { bytes.append(contentsOf: $0) }
    }

    package mutating func reserve(_ n: Int) { bytes.reserveCapacity(n) }

    /// Empties the writer, keeping its storage for the next value.
    package mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    package mutating func unsigned(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    package mutating func int(_ v: Int64) { unsigned(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }
    package mutating func int(_ v: Int) { int(Int64(v)) }
    package mutating func int(_ v: Int32) { int(Int64(v)) }

    /// Optional values carry a presence byte.
    package mutating func int(_ v: Int64?) {
        guard let v else { return byte(0) }
        byte(1)
        int(v)
    }

    package mutating func bool(_ v: Bool) { byte(v ? 1 : 0) }

    package mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            unsigned(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    package mutating func count(_ n: Int) { unsigned(UInt64(n)) }
}
