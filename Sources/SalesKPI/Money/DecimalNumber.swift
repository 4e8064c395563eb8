/// An exact decimal `mantissa × 10^exponent`, as written in an event or a config file.
///
/// Money never passes through binary floating point: amounts are parsed into this form and
/// converted to integer minor units of the reporting currency with one rounding step.
package struct DecimalNumber: Hashable, Sendable, CustomStringConvertible {
    package var mantissa: Int64
    package var exponent: Int32

    package init(mantissa: Int64, exponent: Int32) {
        self.mantissa = mantissa
        self.exponent = exponent
    }

    package var isNegative: Bool { mantissa < 0 }

    /// Parses `-?digits(.digits)?([eE][+-]?digits)?`; nil when the text is not such a number or
    /// does not fit 18 significant digits (the caller reports that as out of range).
    package static func parse(_ bytes: UnsafeRawBufferPointer) -> DecimalNumber? {
        var i = 0
        let n = bytes.count
        guard n > 0 else { return nil }
        var negative = false
        if bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        var mantissa: Int64 = 0
        var digits = 0
        var exponent: Int32 = 0
        var sawDigit = false
        while i < n, bytes[i] &- 48 < 10 {
            sawDigit = true
            if mantissa != 0 || bytes[i] != 48 { digits += 1 }
            if digits > 18 { return nil }
            mantissa = mantissa &* 10 &+ Int64(bytes[i] &- 48)
            i += 1
        }
        guard sawDigit else { return nil }
        if i < n, bytes[i] == UInt8(ascii: ".") {
            i += 1
            var fractionDigit = false
            while i < n, bytes[i] &- 48 < 10 {
                fractionDigit = true
                if mantissa != 0 || bytes[i] != 48 { digits += 1 }
                if digits > 18 {
                    // Trailing zeros beyond 18 digits carry no value; anything else is too precise.
                    if bytes[i] == 48 {
                        i += 1
                        continue
                    }
                    return nil
                }
                mantissa = mantissa &* 10 &+ Int64(bytes[i] &- 48)
                exponent -= 1
                i += 1
            }
            guard fractionDigit else { return nil }
        }
        if i < n, bytes[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            var expNegative = false
            if i < n, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
                expNegative = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            var e: Int32 = 0
            var expDigit = false
            while i < n, bytes[i] &- 48 < 10 {
                expDigit = true
                e = e &* 10 &+ Int32(bytes[i] &- 48)
                if e > 400 { return nil }
                i += 1
            }
            guard expDigit else { return nil }
            exponent += expNegative ? -e : e
        }
        guard i == n else { return nil }
        return DecimalNumber(mantissa: negative ? -mantissa : mantissa, exponent: exponent)
    }

    /// Parses a decimal from text, as found in config files.
    package static func parse(_ text: String) -> DecimalNumber? {
        var text = text
        return text.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    package var description: String {
        if exponent >= 0 {
            return String(mantissa) + String(repeating: "0", count: Int(exponent))
        }
        let negative = mantissa < 0
        var digits = String(mantissa.magnitude)
        let scale = Int(-exponent)
        if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
        let split = digits.index(digits.endIndex, offsetBy: -scale)
        return (negative ? "-" : "") + digits[..<split] + "." + digits[split...]
    }
}
