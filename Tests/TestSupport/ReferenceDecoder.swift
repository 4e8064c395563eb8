import Foundation
import SalesKPI

/// A deliberately plain event decoder for property tests: a character-level JSON parser into a
/// tree, then the docs/events.md rules one by one, with Foundation's `Decimal` for money and
/// `Calendar` for timestamps. Nothing is shared with the fast decoder but the outcome types.
package struct ReferenceDecoder {
    package enum Outcome: Equatable, CustomStringConvertible {
        case event(SalesEvent)
        case unknownType
        case rejected(RejectReason)

        package var description: String {
            switch self {
            case .event(let e): "event(\(e))"
            case .unknownType: "unknownType"
            case .rejected(let r): "rejected(\(r.rawValue))"
            }
        }
    }

    indirect enum JSON {
        case object([(String, JSON)])
        case array([JSON])
        case string(String)
        case number(String)
        case bool
        case null
    }

    package var rates: [String: Decimal]
    package var maxPayloadBytes = 64 * 1024
    package var maxDepth = 32
    package var maxFieldBytes = 256
    package var maxIdBytes = 128

    package init(rates: [String: Decimal]) { self.rates = rates }

    package static func outcome(of decoded: DecodeOutcome) -> Outcome {
        switch decoded {
        case .event(let e): .event(e)
        case .unknownType: .unknownType
        case .rejected(let r): .rejected(r.reason)
        }
    }

    package func decode(_ bytes: [UInt8]) -> Outcome {
        if bytes.isEmpty { return .rejected(.emptyPayload) }
        if bytes.count > maxPayloadBytes { return .rejected(.tooLarge) }
        guard let text = String(validating: bytes, as: UTF8.self) else { return .rejected(.invalidUTF8) }
        var parser = Parser(scalars: Array(text.unicodeScalars), maxDepth: maxDepth)
        guard let root = parser.document(), case .object(let members) = root else { return .rejected(.malformedJSON) }
        let known = [
            "event_id", "type", "occurred_at", "region", "rep_id", "deal_id", "amount", "currency", "created_at",
            "stage", "customer_id", "channel",
        ]
        var fields: [String: JSON] = [:]
        for (key, value) in members where known.contains(key) {
            if fields[key] != nil { return .rejected(.malformedJSON) }
            fields[key] = value
        }
        do {
            return try validate(fields)
        } catch {
            return .rejected(error.reason)
        }
    }

    struct Failure: Error { var reason: RejectReason }

    private func validate(_ f: [String: JSON]) throws(Failure) -> Outcome {
        let eventId = try required(f, "event_id")
        guard let type = EventType(wireName: try required(f, "type")) else { return .unknownType }
        let occurredAt = try timestamp(try required(f, "occurred_at"))
        var event = SalesEvent(eventId: eventId, type: type, occurredAt: occurredAt, region: try required(f, "region"))
        try checkId(event.region)
        event.repId = try optional(f, "rep_id")
        if let rep = event.repId { try checkId(rep) }
        let isDeal = [.dealCreated, .dealStageChanged, .dealWon, .dealLost].contains(type)
        let isCustomer = type == .customerAcquired || type == .customerChurned
        if isDeal || isCustomer { _ = try required(f, "rep_id") }
        if isDeal {
            event.dealId = try required(f, "deal_id")
            let createdAt = try timestamp(try required(f, "created_at"))
            if createdAt > occurredAt { throw Failure(reason: .createdAfterOccurred) }
            event.createdAt = createdAt
        }
        if type == .dealStageChanged { event.stage = try required(f, "stage") }
        if isCustomer { event.customerId = try required(f, "customer_id") }
        if type == .spendRecorded { event.channel = try required(f, "channel") }
        if isDeal || type == .spendRecorded {
            let text: String
            switch f["amount"] {
            case nil, .null: throw Failure(reason: .missingField)
            case .number(let t), .string(let t): text = t
            default: throw Failure(reason: .invalidField)
            }
            let currency = try required(f, "currency")
            event.amount = try money(text, currency)
        }
        return .event(event)
    }

    /// Scope ids: bounded, no '/', nothing in Foundation's control (Cc, Cf) or newline sets.
    private func checkId(_ id: String) throws(Failure) {
        let forbidden = CharacterSet.controlCharacters.union(.newlines).union(CharacterSet(charactersIn: "/"))
        if id.utf8.count > maxIdBytes || id.unicodeScalars.contains(where: forbidden.contains) {
            throw Failure(reason: .invalidField)
        }
    }

    private func optional(_ f: [String: JSON], _ name: String) throws(Failure) -> String? {
        switch f[name] {
        case nil, .null: return nil
        case .string(let s):
            if s.utf8.count > maxFieldBytes { throw Failure(reason: .invalidField) }
            return s
        default: throw Failure(reason: .invalidField)
        }
    }

    private func required(_ f: [String: JSON], _ name: String) throws(Failure) -> String {
        guard let s = try optional(f, name), !s.isEmpty else { throw Failure(reason: .missingField) }
        return s
    }

    /// RFC 3339 through a regular expression and a UTC Gregorian calendar.
    private func timestamp(_ text: String) throws(Failure) -> EpochMillis {
        let pattern =
            #"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"#
        guard let match = text.range(of: pattern, options: .regularExpression), match == text.startIndex..<text.endIndex
        else { throw Failure(reason: .invalidTimestamp) }
        let s = Array(text)
        func number(_ from: Int, _ count: Int) -> Int { Int(String(s[from..<(from + count)]))! }
        let (year, month, day) = (number(0, 4), number(5, 2), number(8, 2))
        let (hour, minute, second) = (number(11, 2), number(14, 2), number(17, 2))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard (1...12).contains(month), hour <= 23, minute <= 59, second <= 60,
            let monthStart = calendar.date(from: DateComponents(year: year, month: month, day: 1)),
            let days = calendar.range(of: .day, in: .month, for: monthStart), days.contains(day)
        else { throw Failure(reason: .invalidTimestamp) }
        var rest = String(s[19...])
        var millis = 0
        if rest.hasPrefix(".") {
            let digits = rest.dropFirst().prefix { $0.isNumber }
            millis = Int(String((digits + "00").prefix(3)))!
            rest = String(rest.dropFirst(1 + digits.count))
        }
        var offset = 0
        if rest.lowercased() != "z" {
            let r = Array(rest)
            let oh = Int(String(r[1...2]))!
            let om = Int(String(r[4...5]))!
            guard oh <= 23, om <= 59 else { throw Failure(reason: .invalidTimestamp) }
            offset = (oh * 3600 + om * 60) * (r[0] == "-" ? -1 : 1)
        }
        if second == 60 { millis = 999 }
        let date = calendar.date(
            from: DateComponents(
                year: year, month: month, day: day, hour: hour, minute: minute, second: min(second, 59)))!
        let t = (Int64(date.timeIntervalSince1970) - Int64(offset)) * 1000 + Int64(millis)
        // Years 2000 to 2099.
        guard t >= 946_684_800_000, t < 4_102_444_800_000 else { throw Failure(reason: .absurdTimestamp) }
        return t
    }

    private func money(_ text: String, _ currency: String) throws(Failure) -> Money {
        guard text.range(of: #"^-?\d+(\.\d+)?([eE][+-]?\d+)?$"#, options: .regularExpression) != nil,
            let amount = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
        else { throw Failure(reason: .invalidAmount) }
        if amount < 0 { throw Failure(reason: .negativeAmount) }
        guard let rate = rates[currency] else { throw Failure(reason: .unknownCurrency) }
        var product = amount * rate * 100
        var rounded = Decimal()
        NSDecimalRound(&rounded, &product, 0, .bankers)
        guard rounded <= Decimal(1_000_000_000_000_00) else { throw Failure(reason: .invalidAmount) }
        return Money(minorUnits: NSDecimalNumber(decimal: rounded).int64Value)
    }

    /// JSON (RFC 8259) over Unicode scalars, recursively.
    struct Parser {
        var scalars: [Unicode.Scalar]
        var at = 0
        let maxDepth: Int

        init(scalars: [Unicode.Scalar], maxDepth: Int) {
            self.scalars = scalars
            self.maxDepth = maxDepth
        }

        mutating func document() -> JSON? {
            guard let v = value(depth: 0) else { return nil }
            skipSpace()
            return at == scalars.count ? v : nil
        }

        mutating func skipSpace() {
            while at < scalars.count, [" ", "\t", "\n", "\r"].contains(scalars[at]) { at += 1 }
        }

        mutating func value(depth: Int) -> JSON? {
            skipSpace()
            guard at < scalars.count else { return nil }
            switch scalars[at] {
            case "{":
                guard depth < maxDepth else { return nil }
                at += 1
                var members: [(String, JSON)] = []
                skipSpace()
                if at < scalars.count, scalars[at] == "}" {
                    at += 1
                    return .object(members)
                }
                while true {
                    skipSpace()
                    guard case .string(let key)? = string() else { return nil }
                    skipSpace()
                    guard at < scalars.count, scalars[at] == ":" else { return nil }
                    at += 1
                    guard let v = value(depth: depth + 1) else { return nil }
                    members.append((key, v))
                    skipSpace()
                    guard at < scalars.count else { return nil }
                    at += 1
                    if scalars[at - 1] == "}" { return .object(members) }
                    guard scalars[at - 1] == "," else { return nil }
                }
            case "[":
                guard depth < maxDepth else { return nil }
                at += 1
                var items: [JSON] = []
                skipSpace()
                if at < scalars.count, scalars[at] == "]" {
                    at += 1
                    return .array(items)
                }
                while true {
                    guard let v = value(depth: depth + 1) else { return nil }
                    items.append(v)
                    skipSpace()
                    guard at < scalars.count else { return nil }
                    at += 1
                    if scalars[at - 1] == "]" { return .array(items) }
                    guard scalars[at - 1] == "," else { return nil }
                }
            case "\"": return string()
            case "t": return literal("true", .bool)
            case "f": return literal("false", .bool)
            case "n": return literal("null", .null)
            default: return number()
            }
        }

        mutating func literal(_ word: String, _ v: JSON) -> JSON? {
            let w = Array(word.unicodeScalars)
            guard at + w.count <= scalars.count, Array(scalars[at..<(at + w.count)]) == w else { return nil }
            at += w.count
            return v
        }

        mutating func number() -> JSON? {
            let start = at
            var text = ""
            while at < scalars.count, "-+.eE0123456789".unicodeScalars.contains(scalars[at]) {
                text.unicodeScalars.append(scalars[at])
                at += 1
            }
            guard at > start,
                text.range(of: #"^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$"#, options: .regularExpression) != nil
            else { return nil }
            return .number(text)
        }

        mutating func string() -> JSON? {
            guard at < scalars.count, scalars[at] == "\"" else { return nil }
            at += 1
            var out = String.UnicodeScalarView()
            while at < scalars.count {
                let c = scalars[at]
                at += 1
                switch c {
                case "\"": return .string(String(out))
                case "\\":
                    guard at < scalars.count else { return nil }
                    let e = scalars[at]
                    at += 1
                    switch e {
                    case "\"": out.append("\"")
                    case "\\": out.append("\\")
                    case "/": out.append("/")
                    case "b": out.append("\u{8}")
                    case "f": out.append("\u{C}")
                    case "n": out.append("\n")
                    case "r": out.append("\r")
                    case "t": out.append("\t")
                    case "u":
                        guard let high = hex4() else { return nil }
                        if (0xD800...0xDBFF).contains(high) {
                            guard at + 1 < scalars.count, scalars[at] == "\\", scalars[at + 1] == "u" else {
                                return nil
                            }
                            at += 2
                            guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
                            out.append(Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!)
                        } else {
                            guard let scalar = Unicode.Scalar(high) else { return nil }
                            out.append(scalar)
                        }
                    default: return nil
                    }
                default:
                    guard c.value >= 0x20 else { return nil }
                    out.append(c)
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard at + 4 <= scalars.count else { return nil }
            let text = String(String.UnicodeScalarView(scalars[at..<(at + 4)]))
            at += 4
            return UInt32(text, radix: 16)
        }
    }
}
