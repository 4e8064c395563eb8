import Testing

@testable import SalesKPI

@Suite("Event decoder")
struct DecoderTests {
    let decoder = EventDecoder(fx: FXTable(reportingCurrency: "CNY", rates: ["USD": DecimalNumber.parse("7.10")!]))

    private func decode(_ json: String) -> DecodeOutcome { decoder.decode(Array(json.utf8)) }

    private func reason(_ json: String) -> RejectReason? {
        if case .rejected(let r) = decode(json) { return r.reason }
        return nil
    }

    private let won =
        #"{"event_id":"e1","type":"deal.won","occurred_at":"2026-03-01T10:00:00+08:00","region":"east","rep_id":"r1","deal_id":"d1","amount":"1234.56","currency":"CNY","created_at":"2026-02-01T10:00:00+08:00"}"#

    @Test("a won deal decodes with its amount in minor units and both timestamps")
    func decodesWonDeal() throws {
        guard case .event(let e) = decode(won) else { Issue.record("not decoded"); return }
        #expect(e.type == .dealWon)
        #expect(e.amount.minorUnits == 123_456)
        #expect(e.occurredAt == Timestamp.parse("2026-03-01T02:00:00Z"))
        #expect(e.createdAt == Timestamp.parse("2026-02-01T02:00:00Z"))
        #expect(e.dealId == "d1" && e.repId == "r1" && e.region == "east")
    }

    @Test("numbers, foreign currency, escapes and unknown fields are handled")
    func decodesVariants() {
        let json =
            #"{"x":{"nested":[1,2,{"a":null}]},"event_id":"e\u00e9\n","type":"spend.recorded","occurred_at":"2026-03-01T00:00:00Z","region":"\u4e1c","amount":100.5,"currency":"USD","channel":"ads","extra":true}"#
        guard case .event(let e) = decode(json) else { Issue.record("not decoded: \(decode(json))"); return }
        #expect(e.amount.minorUnits == 71_355)
        #expect(e.eventId == "eé\n")
        #expect(e.region == "东")
        #expect(e.repId == nil)
    }

    @Test("an unknown type is skipped, not rejected")
    func unknownType() {
        #expect(
            decode(#"{"event_id":"e","type":"deal.reopened","occurred_at":"2026-03-01T00:00:00Z","region":"x"}"#)
                == .unknownType("deal.reopened"))
    }

    @Test(
        "bad input is rejected with the right reason",
        arguments: [
            ("", RejectReason.emptyPayload),
            ("{\"event_id\":", .malformedJSON),
            ("[1,2]", .malformedJSON),
            ("{\"event_id\":\"e\"} trailing", .malformedJSON),
            ("{\"amount\":NaN}", .malformedJSON),
            ("{\"amount\":Infinity}", .malformedJSON),
            ("{\"a\":" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}", .malformedJSON),
            ("{\"event_id\":\"a\",\"event_id\":\"b\"}", .malformedJSON),
            ("{\"event_id\":\"\u{1}\"}", .malformedJSON),
            ("{\"type\":\"deal.won\"}", .missingField),
            (
                "{\"event_id\":\"e\",\"type\":\"deal.won\",\"occurred_at\":\"2026-03-01T00:00:00Z\",\"region\":\"x\",\"rep_id\":\"r\",\"deal_id\":\"d\",\"currency\":\"CNY\",\"created_at\":\"2026-02-01T00:00:00Z\"}",
                .missingField
            ),
            ("{\"event_id\":7,\"type\":\"deal.won\"}", .invalidField),
            (
                "{\"event_id\":\"e\",\"type\":\"spend.recorded\",\"occurred_at\":\"2026-03-01T00:00:00Z\",\"region\":\"x\",\"channel\":\"ads\",\"amount\":\"12,5\",\"currency\":\"CNY\"}",
                .invalidAmount
            ),
            (
                "{\"event_id\":\"e\",\"type\":\"spend.recorded\",\"occurred_at\":\"2026-03-01T00:00:00Z\",\"region\":\"x\",\"channel\":\"ads\",\"amount\":1e400,\"currency\":\"CNY\"}",
                .invalidAmount
            ),
            (
                "{\"event_id\":\"e\",\"type\":\"spend.recorded\",\"occurred_at\":\"2026-03-01T00:00:00Z\",\"region\":\"x\",\"channel\":\"ads\",\"amount\":[1],\"currency\":\"CNY\"}",
                .invalidField
            ),
            (
                "{\"event_id\":\"e\",\"type\":\"spend.recorded\",\"occurred_at\":\"2026-03-01T00:00:00Z\",\"region\":\"x\",\"channel\":\"ads\",\"amount\":-3,\"currency\":\"CNY\"}",
                .negativeAmount
            ),
            (
                "{\"event_id\":\"e\",\"type\":\"spend.recorded\",\"occurred_at\":\"2026-03-01T00:00:00Z\",\"region\":\"x\",\"channel\":\"ads\",\"amount\":3,\"currency\":\"XYZ\"}",
                .unknownCurrency
            ),
            (
                "{\"event_id\":\"e\",\"type\":\"spend.recorded\",\"occurred_at\":\"yesterday\",\"region\":\"x\",\"channel\":\"ads\",\"amount\":3,\"currency\":\"CNY\"}",
                .invalidTimestamp
            ),
            (
                "{\"event_id\":\"e\",\"type\":\"spend.recorded\",\"occurred_at\":\"1970-01-01T00:00:00Z\",\"region\":\"x\",\"channel\":\"ads\",\"amount\":3,\"currency\":\"CNY\"}",
                .absurdTimestamp
            ),
            (
                "{\"event_id\":\"e\",\"type\":\"spend.recorded\",\"occurred_at\":\"9999-01-01T00:00:00Z\",\"region\":\"x\",\"channel\":\"ads\",\"amount\":3,\"currency\":\"CNY\"}",
                .absurdTimestamp
            ),
            (
                "{\"event_id\":\"e\",\"type\":\"deal.won\",\"occurred_at\":\"2026-03-01T00:00:00Z\",\"region\":\"x\",\"rep_id\":\"r\",\"deal_id\":\"d\",\"amount\":1,\"currency\":\"CNY\",\"created_at\":\"2026-03-02T00:00:00Z\"}",
                .createdAfterOccurred
            ),
        ])
    func rejects(json: String, expected: RejectReason) {
        #expect(reason(json) == expected)
    }

    @Test("invalid UTF-8 inside a string is rejected as such")
    func invalidUTF8() {
        var bytes = Array(#"{"event_id":"ab"}"#.utf8)
        bytes.insert(0xC3, at: 14)
        bytes.insert(0x28, at: 15)
        guard case .rejected(let r) = decoder.decode(bytes) else { Issue.record("accepted"); return }
        #expect(r.reason == .invalidUTF8)
        #expect(reason("{\"event_id\":\"\u{D7FF}\"}") != .invalidUTF8)
        #expect(
            decoder.decode([0x7B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x3A, 0x31, 0x7D])
                == .rejected(Rejection(.invalidUTF8, "payload is not valid UTF-8")))
    }

    @Test("payloads over the size limit are rejected before parsing")
    func tooLarge() {
        var limits = DecoderLimits()
        limits.maxPayloadBytes = 100
        let small = EventDecoder(fx: decoder.fx, limits: limits)
        guard case .rejected(let r) = small.decode(Array(won.utf8)) else { Issue.record("accepted"); return }
        #expect(r.reason == .tooLarge)
    }

    @Test("overlong ids are rejected")
    func overlongIds() {
        let json = won.replacingOccurrences(of: "\"e1\"", with: "\"" + String(repeating: "x", count: 300) + "\"")
        #expect(reason(json) == .invalidField)
    }
}

extension String {
    fileprivate func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
    }
}
