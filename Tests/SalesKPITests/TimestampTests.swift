import Foundation
import TestSupport
import Testing
import Worker

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
        for t: EpochMillis in [
            0, 1_774_972_800_000, 1_709_164_800_123, 4_102_444_799_999, -62_135_596_800_000, -62_135_596_799_999,
            -30_610_224_000_001, 32_503_679_999_999,
        ] {
            #expect(Timestamp.parse(Timestamp.format(t)) == t)
            #expect(Timestamp.parse(Timestamp.format(t, offsetSeconds: 28_800)) == t)
        }
        #expect(Timestamp.format(1_774_972_800_000, offsetSeconds: 28_800) == "2026-04-01T00:00:00+08:00")
    }

    /// Against Foundation's Gregorian calendar, an independent reference: years 1600 to 2999,
    /// with and without milliseconds, at whole and part-hour offsets both ways. (Foundation's
    /// calendar is Julian before 1582, where RFC 3339's proleptic Gregorian dates differ; the
    /// years before are covered by the round trip above.)
    @Test("formatted text matches Foundation's calendar for any instant and offset")
    func matchesFoundation() {
        var rng = seededGenerator(20_261_204)
        let first: EpochMillis = -11_676_096_000_000  // 1600-01-01T00:00:00Z
        let last: EpochMillis = 32_503_680_000_000  // 3000-01-01T00:00:00Z
        for n in 0..<2_000 {
            var t = first + EpochMillis(rng.next() % UInt64(last - first))
            if n % 2 == 0 { t -= t % 1000 }
            let offset = [0, 28_800, -18_000, 20_700, -34_200, 50_400][n % 6]
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(secondsFromGMT: offset)!
            let date = Date(timeIntervalSince1970: Double(t) / 1000)
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            var expected = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
            let ms = Int(((t % 1000) + 1000) % 1000)
            if ms != 0 { expected += String(format: ".%03d", ms) }
            let o = abs(offset)
            expected += offset == 0 ? "Z" : String(format: "%@%02d:%02d", offset < 0 ? "-" : "+", o / 3600, o / 60 % 60)
            #expect(Timestamp.format(t, offsetSeconds: offset) == expected, "instant \(t)")
        }
    }
}
