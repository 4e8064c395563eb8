import Foundation
import Kafka
import SalesKPI
import TestSupport
import Testing

@testable import Worker

/// A restart under another order of `time.windows` (README, Operations): state numbers window
/// kinds by their index in the list, and the changelog records the names, so every restored
/// window keeps its kind and its summaries stay exact.
@Suite("time.windows reordered between runs", .serialized)
struct WindowKindsRestartTests {
    @Test("every kind moved: the second run's finals, and the first's, equal the reference", .timeLimit(.minutes(5)))
    func reorderedKindsStayExact() throws {
        // 1. Half the bulk under the usual list: both changelogs hold windows numbered by it.
        let before = try RestartAfterChange()
        let first = before.first
        let kinds = before.firstRun.windowsClosedByKind
        #expect((kinds["week"] ?? 0) > 0 && (kinds["month"] ?? 0) > 0, "\(kinds)")

        // 2. Every kind but the quarter at another index. Under the old numbering the week's open
        // windows would come back as the month's (and so on): named wrong, closed at the wrong time.
        let reordered = ["7d/1d", "month", "day", "quarter", "week"]
        #expect(Set(reordered) == Set(TestConfig.windows) && reordered != TestConfig.windows)
        // A region summary still in flight on the rollup topic, numbered by the old list: kind 1,
        // a week, ahead of the company's progress. The new list's kind 1 is the month, whose
        // windows a week's bounds are not: counted, it would close as a month of a week.
        let week = first.settings.calendar.interval(.week, containing: ScenarioGenerator.closingTime - 20 * 86_400_000)
        var inFlight = KPIAggregate()
        inFlight.revenue = Money(minorUnits: 12_345_600)
        let oldWeek = Summary(
            scope: .region("east"), window: Window(kind: 1, start: week.start, end: week.end), windowName: "week",
            final: false, revision: 0, aggregate: inFlight, watermark: .min, target: nil, marketSize: nil)
        let batch = RollupMessage.batches([RollupMessage.summary(oldWeek, partition: 0)])
        #expect(batch.count == 1)
        try produce(
            [
                Scenario.Message(
                    topic: first.worker.topics.rollup, partition: 0, key: nil, value: batch[0], kind: .good(0))
            ],
            bootstrap: before.bootstrap)

        let two = PipelineHarness(
            config: try RestartAfterChange.config(windows: reordered),
            bootstrap: before.bootstrap)
        two.start()
        defer { two.stop() }
        try produce(before.rest, bootstrap: before.bootstrap)
        let rest = before.rest.count
        let finalWatermark = before.finalWatermark
        #expect(
            two.wait(timeout: .seconds(120)) {
                $0.consumed == rest && $0.isSettled && $0.companyWatermark >= finalWatermark
            }, "the second run did not process the rest")
        #expect(two.stop(), "the second run did not stop")
        let stats = two.pipeline.stats.snapshot
        #expect(stats.restoredRecords > 0, "the second run restored the first run's state")
        #expect(two.error == nil)
        // The old-numbered summary was left out, with its reason on kpi.dlq.
        #expect(stats.deadLettersByReason[.unreadableBatch] == 1, "\(stats.deadLettersByReason)")
        let dlq = try TopicReader.readAll(bootstrap: before.bootstrap, topics: ["kpi.dlq"])
        let refused = dlq.filter { $0.headers["source.topic"] == first.worker.topics.rollup }
        #expect(refused.count == 1)
        #expect(
            refused.first?.headers["detail"]?.hasPrefix(
                "1 region summaries of this batch left out: their windows are no windows of their kinds under time.windows"
            ) == true, "\(refused.first?.headers ?? [:])")

        // Both runs' finals against the reference, by kind name.
        let summaries = try before.checkFinals()
        // Every summary, provisional ones too and the company's (from region summaries in flight
        // on the rollup topic across the restart), spans a window of the kind it names.
        var misnamed: [String] = []
        for m in summaries {
            let json = try #require(try JSONSerialization.jsonObject(with: Data(m.value)) as? [String: Any])
            let window = try #require(json["window"] as? [String: Any])
            let kind = try #require(window["kind"] as? String)
            let start = ReferenceCalendar.parse(try #require(window["start"] as? String))
            let end = ReferenceCalendar.parse(try #require(window["end"] as? String))
            let real = ReferenceModel.windows(containing: start, kinds: [kind], calendar: ReferenceCalendar())
            if !real.contains(where: { $0.1 == start && $0.2 == end }) { misnamed.append(m.text) }
        }
        #expect(
            misnamed.isEmpty,
            "\(misnamed.count) of \(summaries.count) summaries span no window of their kind, first: \(misnamed.first ?? "")"
        )
    }
}
