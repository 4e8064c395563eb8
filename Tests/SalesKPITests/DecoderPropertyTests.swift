import Foundation
import SalesKPI
import TestSupport
import Testing
import Worker

/// The fast decoder against `ReferenceDecoder` on generated events: valid ones in many
/// spellings must decode to the same event, and single defects must be rejected for the same
/// reason.
@Suite("Decoder agrees with the reference decoder")
struct DecoderPropertyTests {
    static let rates: [String: String] = ["USD": "7.10", "EUR": "7.75", "JPY": "0.048"]
    let fast = EventDecoder(
        fx: FXTable(
            reportingCurrency: "CNY",
            rates: rates.mapValues { DecimalNumber.parse($0)! }.merging(["CNY": DecimalNumber(mantissa: 1, exponent: 0)]
            ) { a, _ in a }))
    let reference = ReferenceDecoder(
        rates: rates.mapValues { Decimal(string: $0)! }.merging(["CNY": 1]) { a, _ in a })

    /// One generated event: its fields as JSON texts, in the order they are written.
    struct Draft {
        var fields: [(String, String)]

        func json(_ rng: inout SplitMix64) -> [UInt8] {
            var out = "{"
            for (k, (name, value)) in fields.enumerated() {
                if k > 0 { out += Bool.random(using: &rng) ? "," : " ,\n" }
                out += Bool.random(using: &rng) ? "\"\(name)\":\(value)" : " \"\(name)\" : \(value) "
            }
            return Array((out + "}").utf8)
        }

        mutating func set(_ name: String, _ value: String?) {
            fields.removeAll { $0.0 == name }
            if let value { fields.append((name, value)) }
        }
    }

    static func quoted(_ s: String, _ rng: inout SplitMix64) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            case _ where scalar.isASCII && rng.next() % 8 == 0: out += String(format: "\\u%04X", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func text(_ rng: inout SplitMix64) -> String {
        let pieces = ["east", "北区", "rep", "-", "_", "7", "Ω", "😀", " ", "\"", "\\", "\t", "é", "x"]
        return (0..<(1 + Int(rng.next() % 6))).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined()
    }

    /// A region or rep id: any text but control characters (which ids may not hold).
    static func id(_ rng: inout SplitMix64) -> String {
        let pieces = ["east", "北区", "rep", "-", "_", "7", "Ω", "😀", " ", "\"", "\\", "é", "x"]
        return (0..<(1 + Int(rng.next() % 6))).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined()
    }

    static func timestamp(_ t: EpochMillis, _ rng: inout SplitMix64) -> String {
        let offsets = [0, 28_800, -18_000, 19_800, 3_600]
        let offset = offsets[Int(rng.next() % UInt64(offsets.count))]
        var s = Timestamp.format(t - t % 1000, offsetSeconds: offset)
        if rng.next() % 3 == 0 {
            // Fractions of any length: only milliseconds count.
            let digits = 1 + Int(rng.next() % 6)
            let frac = (0..<digits).map { _ in String(rng.next() % 10) }.joined()
            s.insert(contentsOf: "." + frac, at: s.index(s.startIndex, offsetBy: 19))
        }
        if offset == 0, rng.next() % 4 == 0 { s = s.replacingOccurrences(of: "Z", with: "z") }
        if rng.next() % 5 == 0 { s = s.replacingOccurrences(of: "T", with: " ") }
        return "\"\(s)\""
    }

    static func amount(_ rng: inout SplitMix64) -> String {
        let whole = rng.next() % 10_000_000
        let text: String
        switch rng.next() % 5 {
        case 0: text = "\(whole)"
        case 1: text = "\(whole).\(rng.next() % 100)"
        case 2: text = "\(whole).\(String(format: "%03d", Int(rng.next() % 1000)))"
        case 3: text = "\(whole % 1000).\(rng.next() % 100)e\(rng.next() % 4)"
        default: text = "0.\(String(format: "%04d", Int(rng.next() % 10_000)))"
        }
        return rng.next() % 2 == 0 ? text : "\"\(text)\""
    }

    static func valid(_ rng: inout SplitMix64) -> Draft {
        let types = [
            "deal.created", "deal.stage_changed", "deal.won", "deal.lost", "customer.acquired", "customer.churned",
            "spend.recorded",
        ]
        let type = types[Int(rng.next() % UInt64(types.count))]
        let occurred = 1_767_542_400_000 + EpochMillis(rng.next() % (300 * 86_400_000))
        var d = Draft(fields: [
            ("event_id", quoted("ev-" + text(&rng), &rng)), ("type", "\"\(type)\""),
            ("occurred_at", timestamp(occurred, &rng)), ("region", quoted(id(&rng), &rng)),
        ])
        if type.hasPrefix("deal") || type.hasPrefix("customer") || rng.next() % 2 == 0 {
            d.fields.append(("rep_id", quoted(id(&rng), &rng)))
        }
        if type.hasPrefix("deal") {
            d.fields.append(("deal_id", quoted(text(&rng), &rng)))
            d.fields.append(("created_at", timestamp(occurred - EpochMillis(rng.next() % (60 * 86_400_000)), &rng)))
        }
        if type == "deal.stage_changed" { d.fields.append(("stage", quoted(text(&rng), &rng))) }
        if type.hasPrefix("customer") { d.fields.append(("customer_id", quoted(text(&rng), &rng))) }
        if type == "spend.recorded" { d.fields.append(("channel", quoted(text(&rng), &rng))) }
        if type.hasPrefix("deal") || type == "spend.recorded" {
            d.fields.append(("amount", amount(&rng)))
            d.fields.append(("currency", ["\"CNY\"", "\"USD\"", "\"EUR\"", "\"JPY\""][Int(rng.next() % 4)]))
        }
        // Unknown fields, including nested ones, are skipped by both.
        if rng.next() % 3 == 0 { d.fields.append(("note", quoted(text(&rng), &rng))) }
        if rng.next() % 4 == 0 { d.fields.append(("meta", "{\"a\":[1,2,{\"b\":null}],\"c\":true}")) }
        // A null optional field is the same as a missing one.
        if type != "deal.stage_changed", rng.next() % 4 == 0 { d.fields.append(("stage", "null")) }
        d.fields.shuffle(using: &rng)
        return d
    }

    /// One defect of docs/events.md's bad-input kinds, applied to a valid draft; returns the payload.
    static func broken(_ d: Draft, _ rng: inout SplitMix64) -> [UInt8] {
        var d = d
        let names = d.fields.map(\.0).filter { !["note", "meta"].contains($0) }
        let name = names[Int(rng.next() % UInt64(names.count))]
        switch rng.next() % 15 {
        case 0: d.set(name, nil)
        case 1: d.set(name, "\"\"")
        case 2: d.set(name, ["12", "true", "[1]", "{\"x\":1}"][Int(rng.next() % 4)])
        case 3: d.set(name, "\"\(String(repeating: "x", count: 300))\"")
        case 4: d.set("amount", "\"-\(rng.next() % 1000).5\"")
        case 5:
            d.set(
                "amount",
                ["\"12,5\"", "\"1e\"", "\"abc\"", "\"NaN\"", "\"Infinity\"", "\"1e400\""][Int(rng.next() % 6)])
        case 6: d.set("currency", "\"XAU\"")
        case 7:
            d.set(
                "occurred_at",
                ["\"2026-02-30T00:00:00Z\"", "\"yesterday\"", "\"2026-01-01T25:00:00Z\"", "\"2026-01-01T00:00:00\""][
                    Int(rng.next() % 4)])
        case 8:
            d.set(
                "occurred_at",
                ["\"1999-12-31T23:59:59Z\"", "\"2100-01-01T00:00:00Z\"", "\"9999-01-01T00:00:00Z\""][
                    Int(rng.next() % 3)])
        case 9: d.set("created_at", "\"2099-12-31T00:00:00Z\"")
        case 10:
            var bytes = d.json(&rng)
            bytes.removeLast(1 + Int(rng.next() % UInt64(bytes.count - 1)))
            return bytes
        case 11:
            var bytes = d.json(&rng)
            // An invalid UTF-8 sequence inside the first string value.
            let quote = bytes.firstIndex(of: UInt8(ascii: ":"))! + 1
            let open = bytes[quote...].firstIndex(of: UInt8(ascii: "\""))!
            bytes.insert(contentsOf: [[0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80]][Int(rng.next() % 3)], at: open + 1)
            return bytes
        case 13:
            // An id that would break scope keys or alert text.
            d.set("region", ["\"east/west\"", "\"east\\n\"", "\"ea\\u202Est\"", "\"e\\u0000\""][Int(rng.next() % 4)])
        case 12: d.set("extra", String(repeating: "[", count: 40) + String(repeating: "]", count: 40))
        default: d.fields.append((name, "\"again\""))
        }
        return d.json(&rng)
    }

    @Test("valid events in many spellings decode to the same event")
    func validEvents() {
        var rng = seededGenerator(20_261_129)
        var events = 0
        for _ in 0..<3000 {
            let payload = Self.valid(&rng).json(&rng)
            let expected = reference.decode(payload)
            let actual = ReferenceDecoder.outcome(of: fast.decode(payload))
            #expect(actual == expected, "\(String(decoding: payload, as: UTF8.self))")
            if case .event = expected { events += 1 }
        }
        #expect(events == 3000)
    }

    @Test("single defects are rejected for the same reason")
    func brokenEvents() {
        var rng = seededGenerator(7)
        var reasons: [RejectReason: Int] = [:]
        for _ in 0..<6000 {
            let payload = Self.broken(Self.valid(&rng), &rng)
            let expected = reference.decode(payload)
            let actual = ReferenceDecoder.outcome(of: fast.decode(payload))
            #expect(actual == expected, "\(String(decoding: payload, as: UTF8.self))")
            if case .rejected(let r) = expected { reasons[r, default: 0] += 1 }
        }
        // The generator reaches every reason a payload alone can have (not those that need the
        // wall clock or a shard's state).
        let reachable = Set(RejectReason.allCases).subtracting([
            .late, .unreadableBatch, .emptyPayload, .tooLarge, .futureTimestamp, .amountOverflow, .scopeLimit,
            .unprocessable, .notifyFailed,
        ])
        #expect(Set(reasons.keys) == reachable, "\(reasons)")
    }
}
