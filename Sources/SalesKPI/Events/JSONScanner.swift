/// A forward-only JSON tokenizer over raw message bytes.
///
/// It never builds a document tree: the event decoder pulls the fields it knows and skips the
/// rest, validating grammar, nesting depth and UTF-8 as it goes.
struct JSONScanner {
    enum Failure: Error {
        case malformed(String)
        case invalidUTF8
    }

    let bytes: UnsafeRawBufferPointer
    var index = 0
    let maxDepth: Int

    init(_ bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    var atEnd: Bool { index >= bytes.count }

    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func expect(_ byte: UInt8, _ what: StaticString) throws(Failure) {
        skipWhitespace()
        guard index < bytes.count else { throw .malformed("truncated: expected \(what)") }
        guard bytes[index] == byte else { throw .malformed("expected \(what) at byte \(index)") }
        index += 1
    }

    /// Scans a string whose opening quote is next; returns the raw content range and whether it
    /// holds escapes that the caller must decode.
    mutating func scanString() throws(Failure) -> (range: Range<Int>, escaped: Bool) {
        try expect(UInt8(ascii: "\""), "a string")
        let start = index
        var escaped = false
        while true {
            // Eight plain ASCII bytes at a time: no quote, backslash, control or non-ASCII byte;
            // in the word that has one, straight to the first such byte.
            while index + 8 <= bytes.count {
                let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                let mask = JSONScanner.attentionMask(word)
                guard mask == 0 else {
                    index += mask.trailingZeroBitCount >> 3
                    break
                }
                index += 8
            }
            guard index < bytes.count else { throw .malformed("truncated string") }
            let c = bytes[index]
            if c == UInt8(ascii: "\"") {
                index += 1
                return (start..<(index - 1), escaped)
            }
            if c == UInt8(ascii: "\\") {
                escaped = true
                index += 1
                guard index < bytes.count else { throw .malformed("truncated escape") }
                switch bytes[index] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    guard index + 4 < bytes.count else { throw .malformed("truncated \\u escape") }
                    for k in 1...4 where JSONScanner.hexValue(bytes[index + k]) == nil {
                        throw .malformed("bad \\u escape")
                    }
                    index += 5
                default:
                    throw .malformed("bad escape at byte \(index)")
                }
            } else if c < 0x20 {
                throw .malformed("control character in string at byte \(index)")
            } else if c < 0x80 {
                index += 1
            } else {
                try skipUTF8Scalar()
            }
        }
    }

    /// The high bit of every byte of `word` (little-endian) that is a quote, a backslash, below
    /// 0x20 or at least 0x80 (the classic "has zero byte" bit trick on the word and its XORs).
    /// Borrows can mark bytes above a marked one, never below it, so the lowest mark is exact.
    @inline(__always)
    static func attentionMask(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZero(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
        let below20 = (word &- ones &* 0x20) & ~word & highs
        return hasZero(word ^ (ones &* 0x22)) | hasZero(word ^ (ones &* 0x5C)) | below20 | (word & highs)
    }

    /// Validates one multi-byte UTF-8 sequence: no overlong forms, no surrogates, at most U+10FFFF.
    private mutating func skipUTF8Scalar() throws(Failure) {
        let c = bytes[index]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw .invalidUTF8
        }
        guard index + length <= bytes.count else { throw .invalidUTF8 }
        let second = bytes[index + 1]
        guard second >= low, second <= high else { throw .invalidUTF8 }
        for k in 2..<length where bytes[index + k] & 0xC0 != 0x80 { throw .invalidUTF8 }
        index += length
    }

    /// Scans a JSON number and returns its range, enforcing the JSON grammar (no NaN, no leading zeros).
    mutating func scanNumber() throws(Failure) -> Range<Int> {
        skipWhitespace()
        let start = index
        if peek == UInt8(ascii: "-") { index += 1 }
        guard let first = peek, first &- 48 < 10 else { throw .malformed("bad number at byte \(start)") }
        index += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        if peek == UInt8(ascii: ".") {
            index += 1
            guard skipDigits() > 0 else { throw .malformed("bad fraction at byte \(start)") }
        }
        if let e = peek, e | 0x20 == UInt8(ascii: "e") {
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard skipDigits() > 0 else { throw .malformed("bad exponent at byte \(start)") }
        }
        return start..<index
    }

    @discardableResult
    private mutating func skipDigits() -> Int {
        let start = index
        while index < bytes.count, bytes[index] &- 48 < 10 { index += 1 }
        return index - start
    }

    mutating func scanLiteral(_ word: StaticString) throws(Failure) {
        let n = word.utf8CodeUnitCount
        guard index + n <= bytes.count else { throw .malformed("truncated literal") }
        let w = word.utf8Start
        for k in 0..<n where bytes[index + k] != w[k] { throw .malformed("bad literal at byte \(index)") }
        index += n
    }

    /// Skips any value, checking its grammar; `depth` is the nesting level of the enclosing container.
    mutating func skipValue(depth: Int) throws(Failure) {
        skipWhitespace()
        guard let c = peek else { throw .malformed("truncated: expected a value") }
        switch c {
        case UInt8(ascii: "\""): _ = try scanString()
        case UInt8(ascii: "{"):
            guard depth < maxDepth else { throw .malformed("nesting deeper than \(maxDepth)") }
            index += 1
            skipWhitespace()
            if peek == UInt8(ascii: "}") {
                index += 1
                return
            }
            while true {
                _ = try scanString()
                try expect(UInt8(ascii: ":"), "':'")
                try skipValue(depth: depth + 1)
                skipWhitespace()
                guard let next = peek else { throw .malformed("truncated object") }
                index += 1
                if next == UInt8(ascii: "}") { return }
                guard next == UInt8(ascii: ",") else { throw .malformed("expected ',' or '}' at byte \(index - 1)") }
            }
        case UInt8(ascii: "["):
            guard depth < maxDepth else { throw .malformed("nesting deeper than \(maxDepth)") }
            index += 1
            skipWhitespace()
            if peek == UInt8(ascii: "]") {
                index += 1
                return
            }
            while true {
                try skipValue(depth: depth + 1)
                skipWhitespace()
                guard let next = peek else { throw .malformed("truncated array") }
                index += 1
                if next == UInt8(ascii: "]") { return }
                guard next == UInt8(ascii: ",") else { throw .malformed("expected ',' or ']' at byte \(index - 1)") }
            }
        case UInt8(ascii: "t"): try scanLiteral("true")
        case UInt8(ascii: "f"): try scanLiteral("false")
        case UInt8(ascii: "n"): try scanLiteral("null")
        default: _ = try scanNumber()
        }
    }

    /// Decodes a scanned string, resolving escapes and surrogate pairs.
    func string(_ range: Range<Int>, escaped: Bool) throws(Failure) -> String {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[range])
        if !escaped { return String(decoding: slice, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var k = range.lowerBound
        while k < range.upperBound {
            let c = bytes[k]
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                k += 1
                continue
            }
            let e = bytes[k + 1]
            k += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(at: k)
                k += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    guard k + 6 <= range.upperBound, bytes[k] == UInt8(ascii: "\\"), bytes[k + 1] == UInt8(ascii: "u")
                    else { throw .malformed("lone surrogate in \\u escape") }
                    let low = hex4(at: k + 2)
                    guard (0xDC00...0xDFFF).contains(low) else { throw .malformed("lone surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    k += 6
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw .malformed("lone surrogate in \\u escape")
                }
                guard let u = Unicode.Scalar(scalar) else { throw .malformed("bad \\u escape") }
                out.append(contentsOf: UTF8.encode(u)!)
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func hex4(at k: Int) -> UInt32 {
        var v: UInt32 = 0
        for j in 0..<4 { v = v << 4 | UInt32(JSONScanner.hexValue(bytes[k + j])!) }
        return v
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 65...70: c - 55
        case 97...102: c - 87
        default: nil
        }
    }
}
