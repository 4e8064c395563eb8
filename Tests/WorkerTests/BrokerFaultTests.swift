import Foundation
import Kafka
import TestSupport
import Testing
import Worker

/// The pipeline under the mock cluster's fault injection: brokers down and up, leader moves,
/// request errors on produce, fetch, offset commit and every transaction call, and high round
/// trips. The worker must never exit, and the final summaries must still equal the reference.
@Suite("Broker faults", .serialized)
struct BrokerFaultTests {
    /// Kafka API keys and error codes used below.
    enum Api: Int16 {
        case produce = 0, fetch = 1, offsetCommit = 8, heartbeat = 12, addPartitionsToTxn = 24
        case addOffsetsToTxn = 25, endTxn = 26, txnOffsetCommit = 28
    }
    static let notLeader: Int32 = 6
    static let timedOut: Int32 = 7
    static let coordinatorLoading: Int32 = 14
    static let coordinatorNotAvailable: Int32 = 15
    static let notCoordinator: Int32 = 16
    static let notEnoughReplicas: Int32 = 19
    static let concurrentTransactions: Int32 = 51
    static let invalidTxnState: Int32 = 48

    /// Fault groups by index into the list below, each run against a fresh cluster and worker,
    /// and finally all of them one after another in a single run. SALESPULSE_TEST_FAULTS=3,4,5
    /// runs a chosen group.
    static let groups: [[Int]] = [[0, 1, 2], [3, 4, 5], [6, 7], [8], [9], Array(0...9)]

    @Test(
        "faults during processing: no exit, summaries equal the reference", .timeLimit(.minutes(6)),
        arguments: ProcessInfo.processInfo.environment["SALESPULSE_TEST_FAULTS"].map {
            [$0.split(separator: ",").compactMap { Int($0) }]
        } ?? groups)
    func faults(_ selected: [Int]) throws {
        // Client statistics every 500 ms instead of 10 s, to see each fault reach the clients.
        let config = try TestConfig.make(properties: ["statistics.interval.ms": "500"])
        // Each chunk below is weeks of event time written in milliseconds, by a producer that
        // meets the same faults: when one topic's write is retried, its partitions' progress
        // holds the windows open rather than letting the others' make its events late.
        let cluster = try MockCluster(brokers: 3)
        try EmbeddedBroker.createTopics(on: cluster, config: config, partitions: 6)
        let bootstrap = cluster.bootstrapServers
        var generator = ScenarioGenerator()
        let scenario = generator.generate()
        let harness = PipelineHarness(config: config, bootstrap: bootstrap)
        harness.start()
        defer { harness.stop() }

        // A chunk of the bulk is produced, then a fault is applied for three seconds while the
        // pipeline works through it, then undone (request errors are used up by whoever asks next).
        var tried: [String] = []
        // Each with the trace it must leave in the worker's own clients (`FaultEvidence`).
        let faults: [(String, inject: () -> Void, undo: () -> Void, trace: (FaultEvidence) -> Bool)] = [
            ("none", {}, {}, { _ in true }),
            ("broker 2 down", { cluster.setBrokerDown(2) }, { cluster.setBrokerUp(2) }, \.sawErrors),
            ("broker 3 down", { cluster.setBrokerDown(3) }, { cluster.setBrokerUp(3) }, \.sawErrors),
            (
                "leaders of every input and internal partition moved",
                {
                    for topic in config.worker.topics.inputs {
                        for p in 0..<Int32(8) { cluster.setPartitionLeader(topic, p, broker: 1 + (p + 1) % 3) }
                    }
                    for p in 0..<Int32(6) {
                        cluster.setPartitionLeader(config.worker.topics.internal, p, broker: 1 + p % 3)
                    }
                },
                {},
                // The old leaders answer "not leader": the clients ask for the new ones.
                { $0.sawErrors || $0.requests["Metadata", default: 0] > 0 }
            ),
            (
                "produce errors",
                {
                    cluster.pushRequestErrors(
                        apiKey: Api.produce.rawValue,
                        [Self.notLeader, Self.notEnoughReplicas, Self.timedOut, Self.notEnoughReplicas])
                }, {},
                // librdkafka resends a failed batch without counting it anywhere in its
                // statistics; the not-leader answer makes it ask for the partition's leader.
                { $0.requests["Metadata", default: 0] > 0 }
            ),
            (
                "fetch errors",
                {
                    cluster.pushRequestErrors(
                        apiKey: Api.fetch.rawValue, [Self.notLeader, Self.notLeader, Self.timedOut])
                }, {}, { $0.sawErrors || $0.requests["Metadata", default: 0] > 0 }
            ),
            (
                "offset commit and heartbeat errors",
                {
                    cluster.pushRequestErrors(
                        apiKey: Api.offsetCommit.rawValue, [Self.coordinatorNotAvailable, Self.notCoordinator])
                    cluster.pushRequestErrors(apiKey: Api.heartbeat.rawValue, [Self.notCoordinator])
                }, {}, \.sawErrors
            ),
            (
                "retriable transaction errors",
                {
                    cluster.pushRequestErrors(
                        apiKey: Api.addPartitionsToTxn.rawValue, [Self.concurrentTransactions, Self.coordinatorLoading])
                    cluster.pushRequestErrors(apiKey: Api.addOffsetsToTxn.rawValue, [Self.coordinatorLoading])
                    cluster.pushRequestErrors(apiKey: Api.txnOffsetCommit.rawValue, [Self.coordinatorLoading])
                    cluster.pushRequestErrors(apiKey: Api.endTxn.rawValue, [Self.concurrentTransactions])
                }, {}, \.sawErrors
            ),
            (
                "a transaction that cannot commit (the stage is rebuilt from its changelog)",
                { cluster.pushRequestErrors(apiKey: Api.endTxn.rawValue, [Self.invalidTxnState]) }, {},
                { $0.failedCommits > 0 }
            ),
            (
                "500 ms round trips on every broker",
                { for b in Int32(1)...3 { cluster.setRoundTripTime(b, milliseconds: 500) } },
                { for b in Int32(1)...3 { cluster.setRoundTripTime(b, milliseconds: 0) } },
                { $0.maxRoundTripMillis >= 500 }
            ),
        ]
        let chunk = (scenario.bulk.count + faults.count - 1) / faults.count
        for (k, (name, inject, undo, trace)) in faults.enumerated() {
            let part = Array(
                scenario.bulk[min(scenario.bulk.count, k * chunk)..<min(scenario.bulk.count, (k + 1) * chunk)])
            try produce(part, bootstrap: bootstrap)
            guard selected.contains(k) else { continue }
            let before = harness.pipeline.stats.snapshot
            inject()
            tried.append(name)
            Thread.sleep(forTimeInterval: 3)
            let during = harness.pipeline.stats.snapshot
            undo()
            #expect(!harness.isDone, "the pipeline exited during '\(name)': \(harness.error ?? "")")
            // Each fault reached the worker's own clients: counted from their error events,
            // failed commits and librdkafka statistics. Request errors wait for whoever sends
            // that request next (a stage still joining its group commits nothing yet), so the
            // trace may show up after the fault's three seconds.
            var seen = FaultEvidence(before: before, during: during, after: during)
            let traced = harness.wait(timeout: .seconds(30)) { now in
                seen = FaultEvidence(before: before, during: during, after: now)
                return trace(seen)
            }
            print("FIGURES fault '\(name)': \(seen)")
            #expect(traced, "fault '\(name)' left no trace in the worker's clients: \(seen)")
        }
        print("FIGURES broker faults tried: \(tried.count): \(tried.joined(separator: "; "))")

        let bulk = scenario.bulk.count
        try #require(
            harness.wait(timeout: .seconds(180)) { $0.consumed >= bulk && $0.isSettled }, "bulk not consumed")
        // Late means behind every input partition's progress: empty partitions count once idle.
        try #require(
            harness.wait(timeout: .seconds(120)) { $0.companyWatermark >= generator.lateTime + 3_600_000 },
            "windows never passed the late events' time")
        try produce(scenario.late, bootstrap: bootstrap)
        try #require(harness.wait(timeout: .seconds(60)) { $0.consumed >= bulk + scenario.late.count && $0.isSettled })
        try produce(scenario.closing, bootstrap: bootstrap)
        let finalWatermark = ScenarioGenerator.closingTime - 3_600_000
        try #require(
            harness.wait(timeout: .seconds(180)) { $0.isSettled && $0.companyWatermark >= finalWatermark },
            "closing events not processed")
        #expect(!harness.isDone && harness.error == nil)
        try #require(harness.stop(), "pipeline did not stop")
        let stats = harness.pipeline.stats.snapshot
        print("FIGURES broker faults: \(stats.commits) commits, \(stats.deliveryFailures) failed commits or deliveries")

        let messages = try TopicReader.readAll(
            bootstrap: bootstrap, topics: ["kpi.summaries", "kpi.alerts", "kpi.dlq"], timeout: .seconds(120))
        let byTopic = Dictionary(grouping: messages, by: \.topic)
        let model = ReferenceModel(scenario)
        // A rebuilt stage re-sends what its failed transaction held (the mock ignores aborts):
        // repeats are allowed, but never with different values.
        let report = try OutputCheck.summaries(
            byTopic["kpi.summaries"] ?? [], model: model, windows: TestConfig.windows, targets: TestConfig.targets,
            markets: TestConfig.marketSizes, finalWatermark: finalWatermark, allowDuplicateFinals: true)
        func byKind(_ keys: [String]) -> [String: Int] {
            Dictionary(grouping: keys) { String($0.prefix { $0 != "|" }) }.mapValues(\.count)
        }
        let lateRecords = (byTopic["kpi.dlq"] ?? []).filter { $0.headers["reason"] == "late" }
        let lateLetters = lateRecords.count
        // Exactly the scenario's late events, each by its source coordinates (repeats allowed).
        let lateSources = Set(
            lateRecords.map { m in
                ["source.topic", "source.partition", "source.offset"].map { m.headers[$0] ?? "?" }.joined(
                    separator: "/")
            })
        #expect(lateSources.count == scenario.late.count, "late dead letters for \(lateSources.count) events")
        #expect(Set(lateRecords.map(\.value)) == Set(scenario.late.map(\.value)))
        print(
            "FIGURES fault check: mismatches \(byKind(report.mismatches)), missing \(byKind(report.missing)), late dead letters \(lateLetters) for \(scenario.late.count) late events"
        )
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(report.finals > 1000)

        // Repeats allowed (see above); the set of alerts and their severities must match.
        let expected = ScenarioAlerts.expected(model, finalWatermark: finalWatermark)
        let actual = try ScenarioAlerts.published(byTopic["kpi.alerts"] ?? []).bySeverity
        #expect(actual == expected, "\(ScenarioAlerts.difference(actual, expected))")

        // Every bad message still reaches the dead-letter topic (repeats allowed, see above).
        var bad = Set(scenario.bulk.compactMap { if case .bad(let r) = $0.kind { r } else { nil } })
        bad.insert("late")
        #expect(Set((byTopic["kpi.dlq"] ?? []).map { $0.headers["reason"] ?? "?" }) == bad)
    }
}

/// What the worker's clients saw of one injected fault: the changes of their counters across it.
struct FaultEvidence: CustomStringConvertible {
    var errors: Int
    var failedCommits: Int
    var retries: Int
    var disconnects: Int
    var timeouts: Int
    var transmitErrors: Int
    var receiveErrors: Int
    var maxRoundTripMillis: Double
    var requests: [String: Int]

    init(before: PipelineStats, during: PipelineStats, after: PipelineStats) {
        errors = after.clientErrors - before.clientErrors
        failedCommits = after.deliveryFailures - before.deliveryFailures
        retries = after.client.retries - before.client.retries
        disconnects = after.client.disconnects - before.client.disconnects
        timeouts = after.client.requestTimeouts - before.client.requestTimeouts
        transmitErrors = after.client.transmitErrors - before.client.transmitErrors
        receiveErrors = after.client.receiveErrors - before.client.receiveErrors
        maxRoundTripMillis = max(during.client.maxRoundTripMillis, after.client.maxRoundTripMillis)
        requests = after.client.requests.merging(before.client.requests) { $0 - $1 }.filter { $0.value != 0 }
    }

    /// Errors, retries or lost connections: what most faults leave.
    var sawErrors: Bool {
        errors + failedCommits + retries + disconnects + timeouts + transmitErrors + receiveErrors > 0
    }

    var description: String {
        "errors \(errors), failed commits \(failedCommits), retries \(retries), disconnects \(disconnects), timeouts \(timeouts), tx/rx errors \(transmitErrors)/\(receiveErrors), max rtt \(maxRoundTripMillis) ms, requests \(requests.sorted { $0.key < $1.key }.map { "\($0.key)+\($0.value)" }.joined(separator: " "))"
    }
}
