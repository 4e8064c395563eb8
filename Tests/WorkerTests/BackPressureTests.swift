import Foundation
import Kafka
import TestSupport
import Testing
import Worker

/// A slow output side slows consumption down instead of dropping output or queueing without
/// bound: with the broker leading every output partition answering after a second and a producer
/// queue of 20 messages, the stages wait for room, never hold more than the bound, and in the
/// end every summary is right. (20, not 100: the route stage sends one batch per internal
/// partition per poll, so 100 messages were not always outstanding within the slow phase.)
@Suite("Back-pressure", .serialized)
struct BackPressureTests {
    @Test("a slow broker fills the bounded queue, then everything is delivered", .timeLimit(.minutes(5)))
    func slowBroker() throws {
        let limit = 20
        let config = try TestConfig.make(properties: ["queue.buffering.max.messages": "\(limit)"])
        let cluster = try MockCluster(brokers: 3)
        try EmbeddedBroker.createTopics(on: cluster, config: config, partitions: 6)
        let bootstrap = cluster.bootstrapServers
        var generator = ScenarioGenerator()
        let scenario = generator.generate()
        try produce(scenario.bulk, bootstrap: bootstrap)

        // Every output partition is led by broker 3, the only slow one; the inputs are on 1 and 2.
        let t = config.worker.topics
        for topic in [t.internal, t.changelog, t.summaries, t.alerts, t.dlq, t.rollup, t.rollupChangelog] {
            let count = EmbeddedBroker.layout(config, partitions: 6).first { $0.name == topic }!.partitions
            for p in 0..<Int32(count) { cluster.setPartitionLeader(topic, p, broker: 3) }
        }
        for topic in t.inputs {
            for p in 0..<Int32(6) { cluster.setPartitionLeader(topic, p, broker: 1 + p % 2) }
        }
        cluster.setRoundTripTime(3, milliseconds: 1000)
        let harness = PipelineHarness(config: config, bootstrap: bootstrap)
        harness.start()
        defer { harness.stop() }
        // Slow seconds: consumption goes on at the output's pace (a stage waiting for room in its
        // producer queue does not poll its consumer).
        var samples: [Int] = []
        var resident: [Int] = []
        // Until some stage has had to wait for room (at most 90 s, however loaded the machine).
        for _ in 0..<90 {
            Thread.sleep(forTimeInterval: 1)
            samples.append(harness.pipeline.stats.snapshot.consumed)
            resident.append(Self.residentMiB())
            if harness.pipeline.stats.snapshot.producerQueueFullWaits > 0, samples.count >= 10 { break }
        }
        let slow = harness.pipeline.stats.snapshot
        // The whole test process (the mock cluster holding every message included): what matters
        // is that it stays flat while output is stalled.
        print(
            "FIGURES back-pressure: consumed after each slow second \(samples), resident MiB \(resident), queue peak \(slow.producerQueuePeak), waits for room \(slow.producerQueueFullWaits)"
        )
        #expect(!harness.isDone)
        #expect(slow.producerQueueFullWaits > 0, "the bounded queue never filled: no back-pressure was exercised")
        #expect(slow.producerQueuePeak <= limit)

        cluster.setRoundTripTime(3, milliseconds: 0)
        let bulk = scenario.bulk.count
        try #require(harness.wait(timeout: .seconds(120)) { $0.consumed == bulk && $0.isSettled })
        // Late means behind every input partition's progress: empty partitions count once idle.
        try #require(harness.wait(timeout: .seconds(120)) { $0.companyWatermark >= generator.lateTime + 3_600_000 })
        try produce(scenario.late + scenario.closing, bootstrap: bootstrap)
        let finalWatermark = ScenarioGenerator.closingTime - 3_600_000
        try #require(
            harness.wait(timeout: .seconds(120)) { $0.isSettled && $0.companyWatermark >= finalWatermark })
        try #require(harness.stop())
        #expect(harness.pipeline.stats.snapshot.producerQueuePeak <= limit)

        // Nothing was dropped: every final summary is there and right.
        let messages = try TopicReader.readAll(bootstrap: bootstrap, topics: ["kpi.summaries"])
        let report = try OutputCheck.summaries(
            messages, model: ReferenceModel(scenario), windows: TestConfig.windows, targets: TestConfig.targets,
            markets: TestConfig.marketSizes, finalWatermark: finalWatermark, allowDuplicateFinals: false)
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(report.finals > 1000)
    }

    static func residentMiB() -> Int {
        let text = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? ""
        let pages = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return pages * 4096 / (1 << 20)
    }
}
