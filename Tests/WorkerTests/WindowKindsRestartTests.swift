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
    /// The mock cluster completes a join only session.timeout.ms − 1 s after the previous member
    /// left (README, Limits): 6 s instead of 45 s, as in the kill tests, so the second run joins
    /// in seconds, not most of a minute.
    static let properties = ["session.timeout.ms": "6000"]

    @Test("every kind moved: the second run's finals, and the first's, equal the reference", .timeLimit(.minutes(5)))
    func reorderedKindsStayExact() throws {
        let cluster = try MockCluster(brokers: 3)
        let first = try TestConfig.make(properties: Self.properties)
        try EmbeddedBroker.createTopics(on: cluster, config: first, partitions: 6)
        let bootstrap = cluster.bootstrapServers
        var generator = ScenarioGenerator()
        let scenario = generator.generate()
        let half = scenario.bulk.count / 2

        // 1. Half the bulk under the usual list; the rollup closes company windows, so both
        // changelogs hold windows numbered by it when the run stops.
        try produce(Array(scenario.bulk[..<half]), bootstrap: bootstrap)
        let one = PipelineHarness(config: first, bootstrap: bootstrap)
        one.start()
        #expect(
            one.wait(timeout: .seconds(120)) { $0.consumed == half && $0.isSettled && $0.companyWatermark > .min },
            "the first run did not settle")
        #expect(one.stop(), "the first run did not stop")
        let before = one.pipeline.stats.snapshot.windowsClosedByKind
        #expect((before["week"] ?? 0) > 0 && (before["month"] ?? 0) > 0, "\(before)")

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
            bootstrap: bootstrap)

        let two = PipelineHarness(
            config: try TestConfig.make(properties: Self.properties, windows: reordered), bootstrap: bootstrap)
        two.start()
        defer { two.stop() }
        try produce(Array(scenario.bulk[half...]) + scenario.closing, bootstrap: bootstrap)
        let rest = scenario.bulk.count - half + scenario.closing.count
        let finalWatermark = ScenarioGenerator.closingTime - 3_600_000
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
        let dlq = try TopicReader.readAll(bootstrap: bootstrap, topics: ["kpi.dlq"])
        let refused = dlq.filter { $0.headers["source.topic"] == first.worker.topics.rollup }
        #expect(refused.count == 1)
        #expect(
            refused.first?.headers["detail"]?.hasPrefix(
                "1 region summaries of this batch left out: their windows are no windows of their kinds under time.windows"
            ) == true, "\(refused.first?.headers ?? [:])")

        // Both runs' finals against the reference, by kind name: one relabelled window would
        // differ (or be missing, or be final twice).
        let summaries = try TopicReader.readAll(bootstrap: bootstrap, topics: ["kpi.summaries"])
        let report = try OutputCheck.summaries(
            summaries, model: ReferenceModel(scenario),
            windows: TestConfig.windows, targets: TestConfig.targets, markets: TestConfig.marketSizes,
            finalWatermark: finalWatermark, allowDuplicateFinals: false)
        #expect(report.finals > 1000)
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(report.finalsByScopeKind["company"] ?? 0 > 0, "\(report.finalsByScopeKind)")
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
