import TestSupport
import Testing

@testable import SalesKPI

@Suite("Windows and the business calendar")
struct WindowTests {
    let shanghai = BusinessCalendar(timeZoneIdentifier: "Asia/Shanghai")!

    private func window(_ spec: String, _ time: String) -> (String, String) {
        var assigner = WindowAssigner(specs: [WindowSpec.parse(spec)!], calendar: shanghai)
        var out: [Window] = []
        assigner.windows(containing: Timestamp.parse(time)!, into: &out)
        return (
            Timestamp.format(out[0].start, offsetSeconds: 28_800), Timestamp.format(out[0].end, offsetSeconds: 28_800)
        )
    }

    @Test("a month ends at local midnight, not UTC midnight")
    func monthEdgesInShanghai() {
        #expect(window("month", "2026-03-31T15:59:59Z") == ("2026-03-01T00:00:00+08:00", "2026-04-01T00:00:00+08:00"))
        #expect(window("month", "2026-03-31T16:00:00Z") == ("2026-04-01T00:00:00+08:00", "2026-05-01T00:00:00+08:00"))
        #expect(
            window("month", "2026-12-31T23:30:00+08:00") == ("2026-12-01T00:00:00+08:00", "2027-01-01T00:00:00+08:00"))
    }

    @Test("quarters split at local midnight of January, April, July and October")
    func quarterEdges() {
        #expect(
            window("quarter", "2026-03-31T23:59:59+08:00") == ("2026-01-01T00:00:00+08:00", "2026-04-01T00:00:00+08:00")
        )
        #expect(
            window("quarter", "2026-04-01T00:00:00+08:00") == ("2026-04-01T00:00:00+08:00", "2026-07-01T00:00:00+08:00")
        )
        #expect(window("quarter", "2026-12-31T16:00:00Z") == ("2027-01-01T00:00:00+08:00", "2027-04-01T00:00:00+08:00"))
    }

    @Test("February has 29 days in leap years")
    func leapFebruary() {
        #expect(
            window("month", "2024-02-29T23:00:00+08:00") == ("2024-02-01T00:00:00+08:00", "2024-03-01T00:00:00+08:00"))
        #expect(
            window("month", "2026-02-28T23:00:00+08:00") == ("2026-02-01T00:00:00+08:00", "2026-03-01T00:00:00+08:00"))
        #expect(
            window("day", "2024-02-29T00:00:00+08:00") == ("2024-02-29T00:00:00+08:00", "2024-03-01T00:00:00+08:00"))
    }

    @Test("weeks start on Monday in the business time zone")
    func mondayWeeks() {
        // 2026-11-29 is a Sunday; 2026-11-30 a Monday.
        #expect(
            window("week", "2026-11-29T23:59:00+08:00") == ("2026-11-23T00:00:00+08:00", "2026-11-30T00:00:00+08:00"))
        #expect(window("week", "2026-11-29T16:00:00Z") == ("2026-11-30T00:00:00+08:00", "2026-12-07T00:00:00+08:00"))
    }

    /// Europe/Berlin in 2026: clocks go from 02:00 to 03:00 on 29 March and from 03:00 back to
    /// 02:00 on 25 October. Expected boundaries are written as local times with their offsets
    /// and read with Foundation's parser, not the domain's.
    @Test(
        "day, week, month and quarter windows across both daylight-saving transitions",
        arguments: [
            ("day", "2026-03-29T12:00:00+02:00", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00"),
            ("day", "2026-03-29T01:59:59+01:00", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00"),
            ("day", "2026-10-25T02:30:00+01:00", "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00"),
            ("day", "2026-10-25T02:30:00+02:00", "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00"),
            ("week", "2026-03-29T23:59:59+02:00", "2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00"),
            ("week", "2026-03-30T00:00:00+02:00", "2026-03-30T00:00:00+02:00", "2026-04-06T00:00:00+02:00"),
            ("week", "2026-10-25T23:00:00+01:00", "2026-10-19T00:00:00+02:00", "2026-10-26T00:00:00+01:00"),
            ("month", "2026-03-31T23:59:59+02:00", "2026-03-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00"),
            ("month", "2026-10-01T00:00:00+02:00", "2026-10-01T00:00:00+02:00", "2026-11-01T00:00:00+01:00"),
            ("quarter", "2026-02-15T12:00:00+01:00", "2026-01-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00"),
            ("quarter", "2026-12-31T23:59:59+01:00", "2026-10-01T00:00:00+02:00", "2027-01-01T00:00:00+01:00"),
        ])
    func daylightSaving(kind: String, at: String, start: String, end: String) throws {
        let berlin = try #require(BusinessCalendar(timeZoneIdentifier: "Europe/Berlin"))
        var assigner = WindowAssigner(specs: [WindowSpec.parse(kind)!], calendar: berlin)
        var out: [Window] = []
        assigner.windows(containing: ReferenceCalendar.parse(at), into: &out)
        #expect(out.count == 1)
        #expect(out.first?.start == ReferenceCalendar.parse(start), "\(kind) at \(at): start")
        #expect(out.first?.end == ReferenceCalendar.parse(end), "\(kind) at \(at): end")
        // Summaries print each boundary with the offset in force at it.
        let window = try #require(out.first)
        #expect(Timestamp.format(window.start, offsetSeconds: berlin.offsetSeconds(at: window.start)) == start)
        #expect(Timestamp.format(window.end, offsetSeconds: berlin.offsetSeconds(at: window.end)) == end)
    }

    @Test("fixed windows align to the UTC epoch")
    func fixedWindows() {
        #expect(window("15m", "2026-01-01T00:29:59Z") == ("2026-01-01T08:15:00+08:00", "2026-01-01T08:30:00+08:00"))
        #expect(window("1h", "2026-01-01T00:00:00Z") == ("2026-01-01T08:00:00+08:00", "2026-01-01T09:00:00+08:00"))
    }

    @Test("an event falls in size/hop hopping windows")
    func hoppingWindows() {
        var assigner = WindowAssigner(specs: [WindowSpec.parse("7d/1d")!], calendar: shanghai)
        var out: [Window] = []
        let t = Timestamp.parse("2026-01-10T12:00:00Z")!
        assigner.windows(containing: t, into: &out)
        #expect(out.count == 7)
        #expect(out.allSatisfy { $0.contains(t) && $0.end - $0.start == 7 * Timestamp.millisPerDay })
        #expect(Set(out.map(\.start)).count == 7)
    }

    @Test(
        "window specs parse and name themselves",
        arguments: ["day", "week", "month", "quarter", "15m", "1h", "7d", "7d/1d", "90s"])
    func specNames(name: String) {
        #expect(WindowSpec.parse(name)?.name == name)
    }

    @Test("bad window specs are refused", arguments: ["year", "0m", "-1h", "1x", "1d/7d", "7d/2d", "", "h"])
    func badSpecs(name: String) {
        #expect(WindowSpec.parse(name) == nil)
    }
}
