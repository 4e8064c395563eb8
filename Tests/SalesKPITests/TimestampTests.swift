import Testing

@testable import SalesKPI

@Suite("RFC 3339 timestamps")
struct TimestampTests {
    @Test(
        "offsets and fractions resolve to the same instant",
        arguments: [
            "2026-03-31T16:00:00Z", "2026-04-01T00:00:00+08:00", "2026-03-31T11:00:00-05:00",
            "2026-03-31T16:00:00.000Z",
            "2026-03-31t16:00:00z", "2026-04-01T00:00:00.0000001+08:00",
        ])
    func sameInstant(text: String) {
        #expect(Timestamp.parse(text) == 1_774_972_800_000)
    }

    @Test("milliseconds are kept and longer fractions truncated")
    func fractions() {
        #expect(Timestamp.parse("2026-01-01T00:00:00.5Z")! % 1000 == 500)
        #expect(Timestamp.parse("2026-01-01T00:00:00.123987Z")! % 1000 == 123)
    }

    @Test("leap days exist only in leap years")
    func leapDays() {
        #expect(Timestamp.parse("2024-02-29T12:00:00Z") != nil)
        #expect(Timestamp.parse("2000-02-29T12:00:00Z") != nil)
        #expect(Timestamp.parse("2026-02-29T12:00:00Z") == nil)
        #expect(Timestamp.parse("2100-02-29T12:00:00Z") == nil)
    }

    @Test(
        "malformed timestamps are refused",
        arguments: [
            "2026-13-01T00:00:00Z", "2026-04-31T00:00:00Z", "2026-01-01 00:00:00", "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00+8:00", "2026-01-01T00:00:00.Z", "26-01-01T00:00:00Z", "2026-01-01T00:00:00+08:00x", "",
        ])
    func refusesMalformed(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    @Test("formatting round-trips through parsing, in UTC and at an offset")
    func roundTrips() {
        for t: EpochMillis in [0, 1_774_972_800_000, 1_709_164_800_123, 4_102_444_799_999] {
            #expect(Timestamp.parse(Timestamp.format(t)) == t)
            #expect(Timestamp.parse(Timestamp.format(t, offsetSeconds: 28_800)) == t)
        }
        #expect(Timestamp.format(1_774_972_800_000, offsetSeconds: 28_800) == "2026-04-01T00:00:00+08:00")
    }
}
