import SalesKPI
import Testing

@testable import Worker

@Suite("Summary encoding off the stage's thread")
struct SummaryEncoderTests {
    static func summary(_ n: Int) -> Summary {
        var a = KPIAggregate()
        a.applyWon(amount: Money(minorUnits: Int64(n) * 137), cycleMillis: Int64(n % 40) * 86_400_000, sign: 1)
        a.newCustomers = Int32(n % 7)
        let day: Int64 = 86_400_000
        return Summary(
            scope: n % 3 == 0 ? .region("east") : .rep("r-\(n)", in: "east"),
            window: Window(kind: 0, start: Int64(n) * day, end: Int64(n + 1) * day), windowName: "day",
            final: n % 2 == 0, revision: n, aggregate: a, watermark: Int64(n) * day, target: nil, marketSize: nil)
    }

    @Test("every summary handed over comes back encoded as the stage would encode it, in order")
    func inOrder() throws {
        let calendar = try #require(BusinessCalendar(timeZoneIdentifier: "Asia/Shanghai"))
        let encoder = SummaryEncoder(name: "test", currency: "CNY", calendar: calendar)
        defer { encoder.stop() }
        var expected: [SummaryEncoder.Encoded] = []
        var taken: [SummaryEncoder.Encoded] = []
        var n = 0
        for batch in 0..<200 {
            let summaries = (0..<(batch % 13)).map { _ in
                n += 1
                return Self.summary(n)
            }
            expected += summaries.map {
                SummaryEncoder.Encoded(key: $0.scope.idBytes, value: $0.json(currency: "CNY", calendar: calendar))
            }
            encoder.submit(summaries)
            // Taken while encoding goes on, and all of it at the end.
            taken += encoder.take(wait: batch % 50 == 49)
        }
        taken += encoder.take(wait: true)
        #expect(taken.count == expected.count)
        #expect(taken.map(\.key) == expected.map(\.key))
        #expect(taken.map(\.value) == expected.map(\.value))
        #expect(encoder.take(wait: true).isEmpty)
    }
}
