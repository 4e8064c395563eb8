#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// The known top-level fields of an event object, pulled out by one scan; unknown fields are skipped.
///
/// Strings without escapes stay ranges of the payload (valid only while it is): the validator
/// parses timestamps and the type from the bytes and makes `String`s only of what it keeps.
struct RawEventFields {
    enum Value {
        /// A string without escapes, as a range of the payload.
        case text(Range<Int>)
        /// A string with escapes, decoded (and checked) during the scan.
        case string(String)
        case number(DecimalNumber?)
        /// A string that is also a valid decimal (only kept for `amount`).
        case decimalString(DecimalNumber?)
        case null
        /// An object, array or boolean.
        case other
    }

    var eventId: Value?
    var type: Value?
    var occurredAt: Value?
    var region: Value?
    var repId: Value?
    var dealId: Value?
    var amount: Value?
    var currency: Value?
    var createdAt: Value?
    var stage: Value?
    var customerId: Value?
    var channel: Value?
    let bytes: UnsafeRawBufferPointer

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The payload bytes of an unescaped string.
    func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[range]) }

    /// The names as byte arrays, for keys with escapes (rare; they are decoded first).
    private static let names: [[UInt8]] = (0..<12).map { slot in
        let name = staticName(slot)
        return Array(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    }

    /// The field names as static strings: no array to load and retain on every key.
    private static func staticName(_ slot: Int) -> StaticString {
        switch slot {
        case 0: "event_id"
        case 1: "type"
        case 2: "occurred_at"
        case 3: "region"
        case 4: "rep_id"
        case 5: "deal_id"
        case 6: "amount"
        case 7: "currency"
        case 8: "created_at"
        case 9: "stage"
        case 10: "customer_id"
        default: "channel"
        }
    }

    private mutating func set(_ slot: Int, _ value: Value) {
        switch slot {
        case 0: eventId = value
        case 1: type = value
        case 2: occurredAt = value
        case 3: region = value
        case 4: repId = value
        case 5: dealId = value
        case 6: amount = value
        case 7: currency = value
        case 8: createdAt = value
        case 9: stage = value
        case 10: customerId = value
        default: channel = value
        }
    }

    static func scan(_ bytes: UnsafeRawBufferPointer, maxDepth: Int) throws(JSONScanner.Failure) -> RawEventFields {
        var s = JSONScanner(bytes, maxDepth: maxDepth)
        var fields = RawEventFields(bytes: bytes)
        var seen: UInt16 = 0
        try s.expect(UInt8(ascii: "{"), "a JSON object")
        s.skipWhitespace()
        if s.peek == UInt8(ascii: "}") {
            s.index += 1
        } else {
            while true {
                let key = try s.scanString()
                try s.expect(UInt8(ascii: ":"), "':'")
                let slot = try slotIndex(of: key, in: s)
                if let slot {
                    guard seen & (1 << slot) == 0 else {
                        throw .malformed("duplicate key \(staticName(slot))")
                    }
                    seen |= 1 << slot
                    fields.set(slot, try value(&s, isAmount: slot == 6))
                } else {
                    try s.skipValue(depth: 1)
                }
                s.skipWhitespace()
                guard let next = s.peek else { throw .malformed("truncated object") }
                s.index += 1
                if next == UInt8(ascii: "}") { break }
                guard next == UInt8(ascii: ",") else { throw .malformed("expected ',' or '}' at byte \(s.index - 1)") }
            }
        }
        s.skipWhitespace()
        guard s.atEnd else { throw .malformed("trailing data after the object at byte \(s.index)") }
        return fields
    }

    private static func slotIndex(of key: (range: Range<Int>, escaped: Bool), in s: JSONScanner) throws(JSONScanner
        .Failure) -> Int?
    {
        if key.escaped {
            let decoded = Array(try s.string(key.range, escaped: true).utf8)
            return names.firstIndex(of: decoded)
        }
        let count = key.range.count
        guard count >= 4, count <= 11 else { return nil }
        let at = key.range.lowerBound
        // Length and one or two bytes pick the only possible name; one comparison confirms it.
        let slot: Int
        switch (count, s.bytes[at]) {
        case (8, UInt8(ascii: "e")): slot = 0
        case (4, _): slot = 1
        case (11, UInt8(ascii: "o")): slot = 2
        case (6, UInt8(ascii: "r")): slot = s.bytes[at + 2] == UInt8(ascii: "g") ? 3 : 4
        case (7, UInt8(ascii: "d")): slot = 5
        case (6, UInt8(ascii: "a")): slot = 6
        case (8, UInt8(ascii: "c")): slot = 7
        case (10, _): slot = 8
        case (5, _): slot = 9
        case (11, UInt8(ascii: "c")): slot = 10
        case (7, UInt8(ascii: "c")): slot = 11
        default: return nil
        }
        return memcmp(staticName(slot).utf8Start, s.bytes.baseAddress! + at, count) == 0 ? slot : nil
    }

    private static func value(_ s: inout JSONScanner, isAmount: Bool) throws(JSONScanner.Failure) -> Value {
        s.skipWhitespace()
        switch s.peek {
        case UInt8(ascii: "\""):
            let (range, escaped) = try s.scanString()
            if isAmount {
                return .decimalString(
                    escaped ? nil : DecimalNumber.parse(UnsafeRawBufferPointer(rebasing: s.bytes[range])))
            }
            return escaped ? .string(try s.string(range, escaped: true)) : .text(range)
        case UInt8(ascii: "n"):
            try s.scanLiteral("null")
            return .null
        case UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "t"), UInt8(ascii: "f"):
            try s.skipValue(depth: 1)
            return .other
        default:
            let range = try s.scanNumber()
            return .number(DecimalNumber.parse(UnsafeRawBufferPointer(rebasing: s.bytes[range])))
        }
    }
}
