/// SipHash-2-4 with a 128-bit output (Aumasson and Bernstein, "SipHash: a fast short-input
/// PRF"; the reference implementation's `siphash` with `outlen` 16): a keyed pseudo-random
/// function, so without the key no one can choose inputs whose outputs collide.
package struct SipHash128: Sendable {
    let k0: UInt64
    let k1: UInt64

    package init(k0: UInt64, k1: UInt64) {
        self.k0 = k0
        self.k1 = k1
    }

    /// A key drawn from the system's random source.
    package static func randomKey() -> SipHash128 {
        var random = SystemRandomNumberGenerator()
        return SipHash128(k0: random.next(), k1: random.next())
    }

    /// The 16 output bytes read as two little-endian words.
    package func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> (low: UInt64, high: UInt64) {
        var s = State(k0: k0, k1: k1)
        let n = bytes.count
        let whole = n & ~7
        let raw = UnsafeRawBufferPointer(bytes)
        var i = 0
        while i < whole {
            s.compress(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            i += 8
        }
        var last = UInt64(truncatingIfNeeded: n) << 56
        var shift: UInt64 = 0
        while i < n {
            last |= UInt64(bytes[i]) << shift
            shift += 8
            i += 1
        }
        s.compress(last)
        return s.finish()
    }

    /// The hash of a string's UTF-8 bytes.
    package func hash(_ text: String) -> (low: UInt64, high: UInt64) {
        var text = text
        return text.withUTF8 { hash($0) }
    }

    private struct State {
        var v0: UInt64 = 0x736f_6d65_7073_6575
        var v1: UInt64 = 0x646f_7261_6e64_6f6d
        var v2: UInt64 = 0x6c79_6765_6e65_7261
        var v3: UInt64 = 0x7465_6462_7974_6573

        init(k0: UInt64, k1: UInt64) {
            v3 ^= k1
            v2 ^= k0
            v1 ^= k1
            v0 ^= k0
            v1 ^= 0xee  // the 128-bit output variant
        }

        mutating func compress(_ m: UInt64) {
            v3 ^= m
            round()
            round()
            v0 ^= m
        }

        mutating func finish() -> (low: UInt64, high: UInt64) {
            v2 ^= 0xee
            for _ in 0..<4 { round() }
            let low = v0 ^ v1 ^ v2 ^ v3
            v1 ^= 0xdd
            for _ in 0..<4 { round() }
            return (low, v0 ^ v1 ^ v2 ^ v3)
        }

        private mutating func round() {
            v0 &+= v1
            v1 = rotate(v1, 13)
            v1 ^= v0
            v0 = rotate(v0, 32)
            v2 &+= v3
            v3 = rotate(v3, 16)
            v3 ^= v2
            v0 &+= v3
            v3 = rotate(v3, 21)
            v3 ^= v0
            v2 &+= v1
            v1 = rotate(v1, 17)
            v1 ^= v2
            v2 = rotate(v2, 32)
        }

        private func rotate(_ x: UInt64, _ b: UInt64) -> UInt64 { (x << b) | (x >> (64 - b)) }
    }
}
