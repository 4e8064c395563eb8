import Foundation
import Kafka
import SalesKPI
import TestSupport
import Testing
import Worker

/// One input partition's producer pauses while the others run days of event time ahead: its
/// events must still count, because windows close on the slowest partition's progress, not on
/// the newest event seen (docs/guarantees.md, event time).
@Suite("A held-back input partition", .serialized)
struct HeldBackPartitionTests {
    static let partitions = 6

    /// librdkafka's default partitioner for a keyed message (CRC-32 of the key modulo the
    /// count), written out here so the test knows where each message lands.
    static func partition(of key: [UInt8]) -> Int32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in key {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return Int32((~crc) % UInt32(partitions))
    }

    @Test(
        "a partition paused for 20 s while the rest runs weeks ahead: its events count, windows wait",
        .timeLimit(.minutes(5)))
    func heldBack() throws {
        let config = try TestConfig.make()
        let cluster = try MockCluster(brokers: 3)
        try EmbeddedBroker.createTopics(on: cluster, config: config, partitions: Self.partitions)
        let bootstrap = cluster.bootstrapServers
        var generator = ScenarioGenerator()
        generator.inputPartitions = Self.partitions
        let scenario = generator.generate()
        var bulk = scenario.bulk
        for k in bulk.indices { bulk[k].partition = bulk[k].key.map(Self.partition(of:)) }
        let held = TopicPartition("crm.deals", 2)
        let half = bulk.count / 2
        let first = Array(bulk[..<half])
        let rest = bulk[half...].filter { !($0.topic == held.topic && $0.partition == held.partition) }
        let heldBack = bulk[half...].filter { $0.topic == held.topic && $0.partition == held.partition }
        func time(_ m: Scenario.Message) -> Int64? {
            if case .good(let i) = m.kind { scenario.events[i].time } else { nil }
        }
        let heldProgress = try #require(
            first.filter { $0.topic == held.topic && $0.partition == held.partition }.compactMap(time).max())
        let restProgress = try #require(rest.compactMap(time).max())
        #expect(restProgress - heldProgress > 14 * 86_400_000, "the others run weeks ahead")
        #expect(heldBack.count > 50)

        try produce(first, bootstrap: bootstrap)
        let harness = PipelineHarness(config: config, bootstrap: bootstrap)
        harness.start()
        defer { harness.stop() }
        try #require(harness.wait(timeout: .seconds(120)) { $0.consumed == first.count && $0.isSettled })
        let paused = Date()
        try produce(rest, bootstrap: bootstrap)
        try #require(harness.wait(timeout: .seconds(120)) { $0.consumed == first.count + rest.count && $0.isSettled })
        // Held for 20 s in all (under the 30 s idle timeout): windows wait at its progress.
        Thread.sleep(until: paused.addingTimeInterval(20))
        let waiting = harness.pipeline.stats.snapshot
        #expect(waiting.companyWatermark <= heldProgress - 3_600_000, "windows closed past the held partition")
        #expect(waiting.deadLettersByReason[.late] == nil)
        try produce(heldBack, bootstrap: bootstrap)
        try produce(scenario.closing, bootstrap: bootstrap)
        let total = bulk.count + scenario.closing.count
        let finalWatermark = ScenarioGenerator.closingTime - 3_600_000
        try #require(
            harness.wait(timeout: .seconds(120)) {
                $0.consumed == total && $0.isSettled && $0.companyWatermark >= finalWatermark
            }, "closing events not processed")
        try #require(harness.stop(), "pipeline did not stop")
        let stats = harness.pipeline.stats.snapshot
        #expect(stats.deadLettersByReason[.late] == nil, "late: \(stats.deadLettersByReason[.late] ?? 0)")
        print(
            "FIGURES held back \(heldBack.count) events of \(held) for 20 s while the rest ran \((restProgress - heldProgress) / 86_400_000) days ahead"
        )

        let messages = try TopicReader.readAll(bootstrap: bootstrap, topics: ["kpi.summaries", "kpi.dlq"])
        #expect(!messages.contains { $0.topic == "kpi.dlq" && $0.headers["reason"] == "late" })
        // The reference leaves out only the late phase, which this run never sent.
        let report = try OutputCheck.summaries(
            messages.filter { $0.topic == "kpi.summaries" }, model: ReferenceModel(scenario),
            windows: TestConfig.windows, targets: TestConfig.targets, markets: TestConfig.marketSizes,
            finalWatermark: finalWatermark, allowDuplicateFinals: false)
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(report.finals > 1000)
    }
}
