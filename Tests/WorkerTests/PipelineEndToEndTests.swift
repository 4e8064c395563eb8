import Foundation
import Kafka
import Prometheus
import TestSupport
import Testing
import Worker

@Suite("Pipeline end to end on the mock cluster", .serialized)
struct PipelineEndToEndTests {
    static let inputs = ["crm.deals", "crm.customers", "crm.spend"]
    static let outputs = ["kpi.summaries", "kpi.alerts", "kpi.dlq"]

    /// Run once with one aggregate stage and once with two in the process (`aggregate_threads`),
    /// which share the internal partitions through the consumer group.
    @Test(
        "summaries equal the reference, bad input (the corpus too) is dead-lettered with its reason, alerts match the rules",
        .timeLimit(.minutes(5)), arguments: [1, 2])
    func endToEnd(aggregateThreads: Int) throws {
        let config = try TestConfig.make(aggregateThreads: aggregateThreads)
        let cluster = try MockCluster(brokers: 3)
        try EmbeddedBroker.createTopics(on: cluster, config: config, partitions: 6)
        let bootstrap = cluster.bootstrapServers
        var generator = ScenarioGenerator()
        var scenario = generator.generate()
        scenario.bulk = try Self.mixInCorpus(scenario.bulk)

        try produce(scenario.bulk, bootstrap: bootstrap)
        let harness = PipelineHarness(config: config, bootstrap: bootstrap)
        harness.start()
        defer { harness.stop() }
        let bulk = scenario.bulk.count
        try #require(
            harness.wait(timeout: .seconds(120)) { $0.consumed == bulk && $0.isSettled }, "bulk not consumed")
        // Late means behind every input partition's progress: empty partitions count once idle.
        try #require(
            harness.wait(timeout: .seconds(120)) { $0.companyWatermark >= generator.lateTime + 3_600_000 },
            "windows never passed the late events' time")
        try produce(scenario.late, bootstrap: bootstrap)
        let withLate = bulk + scenario.late.count
        try #require(
            harness.wait(timeout: .seconds(60)) { $0.consumed == withLate && $0.isSettled }, "late not consumed")
        try produce(scenario.closing, bootstrap: bootstrap)
        let total = withLate + scenario.closing.count
        let finalWatermark = ScenarioGenerator.closingTime - 3_600_000
        try #require(
            harness.wait(timeout: .seconds(60)) {
                $0.consumed == total && $0.isSettled && $0.companyWatermark >= finalWatermark
            }, "closing events not processed")
        let perInstance = (1...aggregateThreads).map {
            harness.pipeline.stats.stage($0 == 1 ? "aggregate" : "aggregate-\($0)")
        }
        try #require(harness.stop(), "pipeline did not stop")
        #expect(harness.error == nil)
        let stats = harness.pipeline.stats.snapshot
        // Each instance owned some of the tasks: the work was really shared.
        for (k, instance) in perInstance.enumerated() {
            #expect((instance?.aggregated ?? 0) > 0, "aggregate instance \(k + 1) applied nothing")
        }

        let messages = try TopicReader.readAll(bootstrap: bootstrap, topics: Self.inputs + Self.outputs)
        let byTopic = Dictionary(grouping: messages, by: \.topic)

        try checkDeadLetters(scenario, byTopic, stats)
        let model = ReferenceModel(scenario)
        try checkSummaries(byTopic["kpi.summaries"] ?? [], model, finalWatermark: finalWatermark)
        try checkAlerts(byTopic["kpi.alerts"] ?? [], model, finalWatermark: finalWatermark)

        // The mock silently drops data past 5 MiB per partition: prove nothing was dropped.
        let all = EmbeddedBroker.layout(config).map(\.name)
        for (tp, marks) in try TopicReader.highWatermarks(bootstrap: bootstrap, topics: all) {
            #expect(marks.low == 0, "log start offset of \(tp) moved to \(marks.low)")
        }
    }

    /// Input already keyed by region (`route_stage: false`): the aggregate stage owns the input
    /// partitions and tracks their progress itself; partitions without a region turn idle.
    @Test("pre-keyed input without the route stage: summaries and alerts equal the reference", .timeLimit(.minutes(5)))
    func preKeyed() throws {
        let config = try TestConfig.make(routeStage: false)
        let cluster = try MockCluster(brokers: 3)
        try EmbeddedBroker.createTopics(on: cluster, config: config, partitions: 6)
        let bootstrap = cluster.bootstrapServers
        var generator = ScenarioGenerator()
        let scenario = generator.generate()
        func keyed(_ messages: [Scenario.Message]) -> [Scenario.Message] {
            messages.map { m in
                var m = m
                switch m.kind {
                case .good(let i), .duplicate(let i):
                    m.partition = HeldBackPartitionTests.partition(of: Array(scenario.events[i].region.utf8))
                default: m.partition = 0
                }
                return m
            }
        }
        try produce(keyed(scenario.bulk), bootstrap: bootstrap)
        let registry = PrometheusCollectorRegistry()
        let harness = PipelineHarness(
            config: config, bootstrap: bootstrap,
            metrics: PipelineMetrics(factory: PrometheusMetricsFactory(registry: registry)))
        harness.start()
        defer { harness.stop() }
        let bulk = scenario.bulk.count
        try #require(harness.wait(timeout: .seconds(120)) { $0.consumed == bulk }, "bulk not consumed")
        try #require(
            harness.wait(timeout: .seconds(120)) { $0.companyWatermark >= generator.lateTime + 3_600_000 },
            "windows never passed the late events' time")
        try produce(keyed(scenario.late), bootstrap: bootstrap)
        try produce(keyed(scenario.closing), bootstrap: bootstrap)
        let finalWatermark = ScenarioGenerator.closingTime - 3_600_000
        let total = bulk + scenario.late.count + scenario.closing.count
        try #require(
            harness.wait(timeout: .seconds(120)) { $0.consumed == total && $0.companyWatermark >= finalWatermark },
            "closing events not processed")
        // The metric follows the counter, a few times a second.
        let decodedAhead = Double(harness.pipeline.stats.snapshot.decodedAhead)
        #expect(
            waitFor(.seconds(10)) {
                metricValue(
                    String(decoding: registry.emitToBuffer(), as: UTF8.self), "salespulse_events_decoded_ahead_total")
                    == decodedAhead
            })
        try #require(harness.stop(), "pipeline did not stop")
        let stats = harness.pipeline.stats.snapshot
        #expect(stats.routed == 0 && stats.deadLettersByReason[.late] == scenario.late.count)
        // The bulk came in batches: with a core to spare, much of it was decoded on the stage's
        // decoding thread.
        if ProcessInfo.processInfo.activeProcessorCount > 1 {
            #expect(stats.decodedAhead > 0, "no event decoded ahead")
        } else {
            #expect(stats.decodedAhead == 0)
        }
        let messages = try TopicReader.readAll(bootstrap: bootstrap, topics: Self.outputs)
        let byTopic = Dictionary(grouping: messages, by: \.topic)
        let model = ReferenceModel(scenario)
        try checkSummaries(byTopic["kpi.summaries"] ?? [], model, finalWatermark: finalWatermark)
        try checkAlerts(byTopic["kpi.alerts"] ?? [], model, finalWatermark: finalWatermark)
    }

    /// Spreads the committed bad-input corpus (docs/events.md) through the bulk, half of it without a
    /// key, and drops the key of every seventh good message: keys never decide anything.
    static func mixInCorpus(_ bulk: [Scenario.Message]) throws -> [Scenario.Message] {
        let corpus = try BadInputCorpus.load()
        var out: [Scenario.Message] = []
        let step = max(1, bulk.count / (corpus.count + 1))
        var next = 0
        for (k, var m) in bulk.enumerated() {
            if case .good = m.kind, k % 7 == 0 { m.key = nil }
            out.append(m)
            if k % step == step - 1, next < corpus.count {
                let entry = corpus[next]
                out.append(
                    Scenario.Message(
                        topic: inputs[next % inputs.count], key: next % 2 == 0 ? nil : Array("corpus".utf8),
                        value: entry.bytes, kind: .bad(reason: entry.reason)))
                next += 1
            }
        }
        return out
    }

    private func checkDeadLetters(_ scenario: Scenario, _ byTopic: [String: [ReadMessage]], _ stats: PipelineStats)
        throws
    {
        let dlq = byTopic["kpi.dlq"] ?? []
        var expected: [String] = scenario.bulk.compactMap { if case .bad(let r) = $0.kind { r } else { nil } }
        expected += Array(repeating: "late", count: scenario.late.count)
        #expect(dlq.map { $0.headers["reason"] ?? "?" }.sorted() == expected.sorted())
        var inputs: [String: ReadMessage] = [:]
        for topic in Self.inputs {
            for m in byTopic[topic] ?? [] { inputs["\(m.topic)/\(m.partition)/\(m.offset)"] = m }
        }
        for m in dlq {
            let source =
                "\(m.headers["source.topic"] ?? "")/\(m.headers["source.partition"] ?? "")/\(m.headers["source.offset"] ?? "")"
            #expect(inputs[source]?.value == m.value, "dead letter \(m.headers) does not carry the bytes at \(source)")
            #expect(inputs[source]?.key == m.key, "dead letter \(m.headers) does not carry the key at \(source)")
            #expect(!(m.headers["detail"] ?? "").isEmpty)
        }
        var counts: [String: Int] = [:]
        for r in expected { counts[r, default: 0] += 1 }
        #expect(
            Dictionary(uniqueKeysWithValues: stats.deadLettersByReason.map { ($0.key.rawValue, $0.value) }) == counts)
        let duplicates = (scenario.bulk + scenario.closing).filter {
            if case .duplicate = $0.kind { true } else { false }
        }.count
        #expect(stats.duplicates == duplicates)
        #expect(stats.unknownTypes == scenario.bulk.filter { $0.kind == .unknownType }.count)
    }

    private func checkSummaries(_ messages: [ReadMessage], _ model: ReferenceModel, finalWatermark: Int64) throws {
        let report = try OutputCheck.summaries(
            messages, model: model, windows: TestConfig.windows, targets: TestConfig.targets,
            markets: TestConfig.marketSizes,
            finalWatermark: finalWatermark, allowDuplicateFinals: false)
        #expect(report.finals > 1000)
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(
            messages.allSatisfy { m in
                guard let json = try? JSONSerialization.jsonObject(with: Data(m.value)) as? [String: Any],
                    let scope = json["scope"] as? [String: Any]
                else { return false }
                return m.key.map { String(decoding: $0, as: UTF8.self) } == scope["id"] as? String
            }, "every summary is keyed by its scope id")
    }

    private func checkAlerts(_ messages: [ReadMessage], _ model: ReferenceModel, finalWatermark: Int64) throws {
        let (actual, repeated) = try ScenarioAlerts.published(messages)
        #expect(repeated.isEmpty, "alerts published twice: \(repeated)")
        let expected = ScenarioAlerts.expected(model, finalWatermark: finalWatermark)
        #expect(
            expected.keys.contains { $0.hasPrefix("cac.spike:region:south") },
            "the scenario should make south's CAC spike")
        #expect(
            expected.keys.contains { $0.hasPrefix("target.slipping:region:north") },
            "the scenario should make north slip")
        #expect(actual == expected, "alerts differ: \(ScenarioAlerts.difference(actual, expected))")
        // Not only which alerts: every field, and the message word for word.
        let details = ScenarioAlerts.details(model, finalWatermark: finalWatermark)
        let differences = try ScenarioAlerts.fieldDifferences(messages, details)
        #expect(differences.isEmpty, "\(differences.count) alert fields differ: \(differences.prefix(8))")
        // Dead letters and summaries are checked elsewhere; alerts are keyed by scope id.
        #expect(
            messages.allSatisfy { m in
                let json = try? JSONSerialization.jsonObject(with: Data(m.value)) as? [String: Any]
                return m.key.map { String(decoding: $0, as: UTF8.self) }
                    == (json?["scope"] as? [String: Any])?["id"] as? String
            }, "every alert is keyed by its scope id")
    }
}
