/// Non-negative integers in decimal, appended to an output span (JSON numbers, timestamps,
/// changelog record keys).
enum DecimalDigits {
    /// `v` in decimal, zero-padded to at least `width` digits (at most 20, UInt64's most).
    ///
    /// The digits come out last first, each by a division by the constant 10, which compiles to
    /// a multiplication. Writing them first to last divided by a varying power of ten, a real
    /// division per digit: a 13-digit time took about 40, and the two digit loops this replaces
    /// were 3.4 % of the shard bench's samples (scripts/bench.sh, shard).
    static func write(_ v: UInt64, width: Int = 1, _ s: inout OutputSpan<UInt8>) {
        var digits = InlineArray<20, UInt8>(repeating: UInt8(ascii: "0"))
        var first = 20
        var rest = v
        repeat {
            first -= 1
            digits[first] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        } while rest != 0
        first = min(first, 20 - min(width, 20))
        for k in first..<20 { s.append(digits[k]) }
    }

    /// `v` (not negative) as at least two digits: a month, day, hour or minute.
    static func two(_ v: Int, _ s: inout OutputSpan<UInt8>) {
        guard v < 100 else { return write(UInt64(v), width: 2, &s) }
        s.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: v / 10))
        s.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: v % 10))
    }
}
