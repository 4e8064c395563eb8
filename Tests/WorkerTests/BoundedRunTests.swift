import Foundation
import Kafka
import TestSupport
import Testing
import Worker

/// `salespulse run --until-end` on the mock cluster (docs/guarantees.md, bounded runs).
@Suite("Bounded runs", .serialized)
struct BoundedRunTests {
    /// With the route stage (the default) and without it (input keyed by region, read by the
    /// aggregate stage, which then owns the sources).
    @Test(
        "two instances started together read every input partition to its recorded end, finalize every window and stop",
        .timeLimit(.minutes(5)), arguments: [true, false])
    func twoInstances(routeStage: Bool) throws {
        let config = try TestConfig.make(routeStage: routeStage)
        let cluster = try MockCluster(brokers: 3)
        try EmbeddedBroker.createTopics(on: cluster, config: config, partitions: 6)
        let bootstrap = cluster.bootstrapServers
        var rng = seededGenerator(17)
        var generator = ScenarioGenerator(seed: rng.next(), days: 40)
        var scenario = generator.generate()
        if !routeStage {
            // Keyed by region, as a producer feeding the aggregate stage directly must.
            for k in scenario.bulk.indices {
                switch scenario.bulk[k].kind {
                case .good(let i), .duplicate(let i):
                    scenario.bulk[k].partition = HeldBackPartitionTests.partition(
                        of: Array(scenario.events[i].region.utf8))
                default: scenario.bulk[k].partition = 0
                }
            }
        }
        try produce(scenario.bulk, bootstrap: bootstrap)
        let ends = try BoundedRun.endOffsets(config, bootstrap: bootstrap)
        #expect(ends.count == 18 && ends.values.reduce(0, +) == Int64(scenario.bulk.count))

        let instances = (0..<2).map { _ in PipelineHarness(config: config, bootstrap: bootstrap, until: ends) }
        for instance in instances { instance.start() }
        defer { for instance in instances { instance.stop() } }
        // Written after the run started: past its end, left for the next run.
        try produce(scenario.closing, bootstrap: bootstrap)
        // Each instance stops by itself once it has nothing left; partitions it leaves go to the
        // other, which finds them ended. A handover waits for the mock's rebalance (up to
        // session.timeout.ms, 45 s by default, per group): minutes on a loaded machine.
        let deadline = ContinuousClock.now + .seconds(280)
        while !instances.allSatisfy(\.isDone), ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.1) }
        let allDone = instances.allSatisfy(\.isDone)
        try #require(allDone, "the instances did not finish")
        #expect(
            instances.map(\.pipeline.completedBoundedRun) == [true, true],
            "each instance stopped because it had finished")
        for (k, instance) in instances.enumerated() {
            #expect(instance.error == nil)
            let stats = instance.pipeline.stats.snapshot
            #expect(
                stats.consumed > 0 && stats.aggregated > 0,
                "instance \(k + 1) did no work: \(stats.consumed) consumed, \(stats.aggregated) applied")
        }

        // Every window has its final, the last ones too, equal to the reference.
        let summaries = try TopicReader.readAll(bootstrap: bootstrap, topics: ["kpi.summaries"])
        let report = try OutputCheck.summaries(
            summaries, model: ReferenceModel(scenario), windows: TestConfig.windows, targets: TestConfig.targets,
            markets: TestConfig.marketSizes, finalWatermark: .max, allowDuplicateFinals: false)
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(report.finalsByScopeKind["company", default: 0] > 50)
        let lastMonth = summaries.contains { m in
            let text = String(decoding: m.value, as: UTF8.self)
            return text.contains("\"scope\":{\"kind\":\"company\"") && text.contains("\"final\":true")
                && text.contains("\"kind\":\"quarter\",\"start\":\"2026-01-01T00:00:00+08:00\"")
        }
        #expect(lastMonth, "the company's quarter, open when the input ends, has its final")

        // The group reading the input committed exactly the recorded ends: what came later is
        // left unread.
        let committed = try TopicReader.committed(
            bootstrap: bootstrap, group: routeStage ? "salespulse-test.route" : "salespulse-test",
            partitions: Array(ends.keys))
        for (tp, end) in ends {
            #expect(max(0, committed[tp] ?? 0) == end, "\(tp) committed at \(committed[tp] ?? -1), end \(end)")
        }
        let marks = try TopicReader.highWatermarks(bootstrap: bootstrap, topics: config.worker.topics.inputs)
        #expect(marks.values.map(\.high).reduce(0, +) > ends.values.reduce(0, +))
    }
}
