import Kafka
import SalesKPI
import TestSupport
import Testing

@testable import Worker

/// A group that ran once before a setting changed (README, Operations): a seeded scenario whose
/// first half a worker with the test defaults has taken, the rollup closing company windows, so
/// both changelogs hold state when it stops.
struct RestartAfterChange {
    /// The mock cluster completes a join only session.timeout.ms − 1 s after the previous member
    /// left (README, Limits): 6 s instead of 45 s, as in the kill tests, so a later run joins in
    /// seconds, not most of a minute.
    static let properties = ["session.timeout.ms": "6000"]

    let cluster: MockCluster
    let first: ResolvedConfig
    let scenario: Scenario
    let half: Int
    /// The first run's counters.
    let firstRun: PipelineStats

    /// The test defaults with the short session timeout, and what a later run changed.
    static func config(windows: [String] = TestConfig.windows, timeZone: String = "Asia/Shanghai") throws
        -> ResolvedConfig
    {
        try TestConfig.make(properties: properties, windows: windows, timeZone: timeZone)
    }

    var bootstrap: String { cluster.bootstrapServers }
    /// The rest of the bulk and the closing events, for a later run.
    var rest: [Scenario.Message] { Array(scenario.bulk[half...]) + scenario.closing }
    var finalWatermark: EpochMillis { ScenarioGenerator.closingTime - 3_600_000 }

    init() throws {
        cluster = try MockCluster(brokers: 3)
        first = try Self.config()
        try EmbeddedBroker.createTopics(on: cluster, config: first, partitions: 6)
        var generator = ScenarioGenerator()
        scenario = generator.generate()
        half = scenario.bulk.count / 2
        try produce(Array(scenario.bulk[..<half]), bootstrap: cluster.bootstrapServers)
        let one = PipelineHarness(config: first, bootstrap: cluster.bootstrapServers)
        one.start()
        let half = half
        #expect(
            one.wait(timeout: .seconds(120)) { $0.consumed == half && $0.isSettled && $0.companyWatermark > .min },
            "the first run did not settle")
        #expect(one.stop(), "the first run did not stop")
        firstRun = one.pipeline.stats.snapshot
    }

    /// Every final on `kpi.summaries`, of both runs, against the reference: one window of the
    /// wrong kind or bounds would differ (or be missing, or be final twice). Returns them all.
    /// `through`: the watermark the last run reached (`.max` for a bounded run's end).
    func checkFinals(through finalWatermark: EpochMillis? = nil) throws -> [ReadMessage] {
        let summaries = try TopicReader.readAll(bootstrap: bootstrap, topics: ["kpi.summaries"])
        let report = try OutputCheck.summaries(
            summaries, model: ReferenceModel(scenario),
            windows: TestConfig.windows, targets: TestConfig.targets, markets: TestConfig.marketSizes,
            finalWatermark: finalWatermark ?? self.finalWatermark, allowDuplicateFinals: false)
        #expect(report.finals > 1000)
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(report.finalsByScopeKind["company"] ?? 0 > 0, "\(report.finalsByScopeKind)")
        return summaries
    }
}
