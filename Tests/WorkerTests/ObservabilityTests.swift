import Foundation
import Kafka
import Logging
import Prometheus
import Synchronization
import TestSupport
import Testing

@testable import Worker

@Suite("Metrics, health and secrets", .serialized)
struct ObservabilityTests {
    static let topics = ["crm.deals", "crm.customers", "crm.spend", "kpi.summaries", "kpi.alerts", "kpi.dlq"]

    private func cluster() throws -> MockCluster {
        let cluster = try MockCluster(brokers: 3)
        try EmbeddedBroker.createTopics(on: cluster, config: try TestConfig.make(), partitions: 3)
        return cluster
    }

    @Test("/metrics from a running worker shows event counters and consumer lag moving", .timeLimit(.minutes(3)))
    func metricsMove() throws {
        let cluster = try cluster()
        var generator = ScenarioGenerator(seed: 11, days: 20)
        let scenario = generator.generate()
        let good = scenario.bulk.filter { if case .good = $0.kind { true } else { false } }
        let half = good.count / 2
        try produce(Array(good[..<half]), bootstrap: cluster.bootstrapServers)

        let registry = PrometheusCollectorRegistry()
        let health = HealthState()
        let server = try ObservabilityServer(host: "127.0.0.1", port: 0, registry: registry, health: health)
        defer { server.shutdown() }
        let harness = PipelineHarness(
            config: try TestConfig.make(), bootstrap: cluster.bootstrapServers,
            metrics: PipelineMetrics(factory: PrometheusMetricsFactory(registry: registry)), health: health)
        harness.start()
        defer { harness.stop() }
        let url = "http://127.0.0.1:\(server.port)/metrics"
        try #require(harness.wait(timeout: .seconds(60)) { $0.consumed == half && $0.isSettled })
        var first = ""
        let events1 = Double(harness.pipeline.stats.snapshot.events)
        #expect(
            waitFor(.seconds(10)) {
                first = httpGet(url)?.body ?? ""
                return metricValue(first, "salespulse_messages_consumed_total") == Double(half)
                    && metricValue(first, "salespulse_events_processed_total") == events1
            })
        let processed1 = try #require(metricValue(first, "salespulse_events_processed_total"))
        let eventLag1 = try #require(metricValue(first, "salespulse_consumer_lag_seconds"))
        #expect(processed1 > 0)
        #expect(metricValue(first, "salespulse_consumer_lag_messages{") == 0)
        #expect(first.contains("salespulse_processing_latency_seconds_bucket"))
        #expect(first.contains("# TYPE salespulse_dead_letters_total counter"))

        try produce(Array(good[half...]), bootstrap: cluster.bootstrapServers)
        try #require(harness.wait(timeout: .seconds(60)) { $0.consumed == good.count && $0.isSettled })
        var second = ""
        let events2 = Double(harness.pipeline.stats.snapshot.events)
        #expect(
            waitFor(.seconds(10)) {
                second = httpGet(url)?.body ?? ""
                return metricValue(second, "salespulse_messages_consumed_total") == Double(good.count)
                    && metricValue(second, "salespulse_events_processed_total") == events2
            })
        let processed2 = try #require(metricValue(second, "salespulse_events_processed_total"))
        let eventLag2 = try #require(metricValue(second, "salespulse_consumer_lag_seconds"))
        #expect(processed2 > processed1)
        // Later events are closer to the wall clock: the event-time lag shrinks.
        #expect(eventLag2 < eventLag1)
        #expect(metricValue(second, "salespulse_consumer_lag_messages{") == 0)
        #expect((metricValue(second, "salespulse_windows_closed_total") ?? 0) > 0)
    }

    /// The (topic, partition) pairs of the lag series on a /metrics page.
    private func lagSeries(_ page: String) -> Set<String> {
        var out: Set<String> = []
        for line in page.split(separator: "\n") where line.hasPrefix("salespulse_consumer_lag_messages{") {
            let labels = line.drop { $0 != "{" }.prefix { $0 != "}" }.dropFirst()
            let pairs = labels.split(separator: ",").sorted().joined(separator: ",")
            out.insert(pairs)
        }
        return out
    }

    @Test(
        "a revoked partition's lag series leaves /metrics; the stage that now owns it reports it",
        .timeLimit(.minutes(4)))
    func lagSeriesFollowOwnership() throws {
        let cluster = try cluster()
        var generator = ScenarioGenerator(seed: 12, days: 20)
        let good = generator.generate().bulk.filter { if case .good = $0.kind { true } else { false } }
        let half = good.count / 2
        try produce(Array(good[..<half]), bootstrap: cluster.bootstrapServers)
        // The mock completes a join into a non-empty group only session.timeout.ms - 1 s later.
        let config = try TestConfig.make(properties: ["session.timeout.ms": "6000"])
        func worker() throws -> (PipelineHarness, ObservabilityServer) {
            let registry = PrometheusCollectorRegistry()
            let health = HealthState()
            let server = try ObservabilityServer(host: "127.0.0.1", port: 0, registry: registry, health: health)
            let harness = PipelineHarness(
                config: config, bootstrap: cluster.bootstrapServers,
                metrics: PipelineMetrics(factory: PrometheusMetricsFactory(registry: registry)), health: health)
            harness.start()
            return (harness, server)
        }
        let (a, serverA) = try worker()
        defer { serverA.shutdown() }
        defer { a.stop() }
        try #require(a.wait(timeout: .seconds(60)) { $0.consumed == half && $0.isSettled })
        let urlA = "http://127.0.0.1:\(serverA.port)/metrics"
        let crm = Set(
            config.worker.topics.inputs.flatMap { topic in (0..<3).map { "partition=\"\($0)\",topic=\"\(topic)\"" } })
        var before: Set<String> = []
        #expect(
            waitFor(.seconds(10)) {
                before = lagSeries(httpGet(urlA)?.body ?? "")
                return crm.isSubset(of: before)
            }, "worker A alone reports every input partition: \(before.sorted())")

        let (b, serverB) = try worker()
        defer { serverB.shutdown() }
        defer { b.stop() }
        try #require(b.wait(timeout: .seconds(60)) { $0.assignedPartitions > 0 })
        try produce(Array(good[half...]), bootstrap: cluster.bootstrapServers)
        // Events one worker routed may be aggregated by the other: settled is a sum over both.
        try #require(
            a.wait(timeout: .seconds(90)) {
                let other = b.pipeline.stats.snapshot
                return $0.consumed + other.consumed >= good.count
                    && $0.aggregated + other.aggregated >= $0.routed + other.routed
            })
        let urlB = "http://127.0.0.1:\(serverB.port)/metrics"
        var seriesA: Set<String> = []
        var seriesB: Set<String> = []
        #expect(
            waitFor(.seconds(10)) {
                seriesA = lagSeries(httpGet(urlA)?.body ?? "")
                seriesB = lagSeries(httpGet(urlB)?.body ?? "")
                return crm.isSubset(of: seriesA.union(seriesB)) && seriesA.isDisjoint(with: seriesB)
            }, "A: \(seriesA.sorted()) B: \(seriesB.sorted())")
        // Worker A gave partitions away, and their series left with them.
        #expect(!crm.isSubset(of: seriesA))
        #expect(!seriesB.isEmpty)
    }

    @Test("/readyz turns false while every broker is down and true again after", .timeLimit(.minutes(3)))
    func readinessFollowsBrokers() throws {
        let cluster = try cluster()
        let registry = PrometheusCollectorRegistry()
        let health = HealthState()
        let server = try ObservabilityServer(host: "127.0.0.1", port: 0, registry: registry, health: health)
        defer { server.shutdown() }
        let harness = PipelineHarness(
            config: try TestConfig.make(), bootstrap: cluster.bootstrapServers, health: health)
        let base = "http://127.0.0.1:\(server.port)"
        #expect(httpGet(base + "/readyz")?.status == 503)
        harness.start()
        #expect(waitFor(.seconds(30)) { httpGet(base + "/readyz")?.status == 200 }, "never ready")
        for broker in Int32(1)...3 { cluster.setBrokerDown(broker) }
        #expect(
            waitFor(.seconds(30)) { httpGet(base + "/readyz")?.status == 503 }, "still ready with every broker down")
        #expect(httpGet(base + "/healthz")?.status == 200)
        #expect(httpGet(base + "/readyz")?.body.contains("cluster unreachable") == true)
        for broker in Int32(1)...3 { cluster.setBrokerUp(broker) }
        #expect(waitFor(.seconds(60)) { httpGet(base + "/readyz")?.status == 200 }, "not ready again after the outage")
        #expect(harness.stop())
        #expect(httpGet(base + "/healthz")?.status == 503)
        #expect(httpGet(base + "/readyz")?.status == 503)
    }

    @Test(
        "/healthz fails while stages are stuck in a commit and recovers; /readyz drops while a stage is rebuilt",
        .timeLimit(.minutes(4)))
    func stuckStage() throws {
        let cluster = try cluster()
        let health = HealthState()
        let server = try ObservabilityServer(
            host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(), health: health)
        defer { server.shutdown() }
        var config = try TestConfig.make()
        // Shorter than the 2 min default so the test waits less; the rules it checks are the same.
        config.stallTimeoutMillis = 10_000
        var generator = ScenarioGenerator()
        generator.inputPartitions = 8
        try produce(Array(generator.generate().bulk.prefix(2_000)), bootstrap: cluster.bootstrapServers)
        let harness = PipelineHarness(config: config, bootstrap: cluster.bootstrapServers, health: health)
        let base = "http://127.0.0.1:\(server.port)"
        harness.start()
        defer { harness.stop() }
        #expect(waitFor(.seconds(30)) { httpGet(base + "/readyz")?.status == 200 }, "never ready")
        #expect(harness.wait(timeout: .seconds(60)) { $0.consumed == 2_000 && $0.isSettled })
        #expect(httpGet(base + "/healthz")?.status == 200)

        // 1. Every broker answers after a minute: each stage's next commit blocks inside
        // librdkafka (the transaction's offsets wait for the coordinator); its loop stops.
        for broker in Int32(1)...3 { cluster.setRoundTripTime(broker, milliseconds: 60_000) }
        let stalled = waitFor(.seconds(30)) { httpGet(base + "/healthz")?.status == 503 }
        let stallBody = httpGet(base + "/healthz")?.body ?? ""
        #expect(stalled, "healthz stayed ok with every stage blocked")
        #expect(stallBody.contains("no progress for"), "\(stallBody)")
        for broker in Int32(1)...3 { cluster.setRoundTripTime(broker, milliseconds: 0) }
        #expect(
            waitFor(.seconds(90)) { httpGet(base + "/healthz")?.status == 200 },
            "healthz after the brokers answer again: \(httpGet(base + "/healthz")?.body ?? "-")")

        // 2. A transaction that cannot commit: its stage is rebuilt, and not ready meanwhile.
        let failuresBefore = harness.pipeline.stats.snapshot.deliveryFailures
        cluster.pushRequestErrors(apiKey: BrokerFaultTests.Api.endTxn.rawValue, [BrokerFaultTests.invalidTxnState])
        var sawRebuild = false
        #expect(
            waitFor(.seconds(30)) {
                if let r = httpGet(base + "/readyz"), r.status == 503, r.body.contains("being rebuilt") {
                    sawRebuild = true
                }
                return sawRebuild
            }, "readyz never reported the rebuild")
        #expect(waitFor(.seconds(60)) { httpGet(base + "/readyz")?.status == 200 }, "not ready after the rebuild")
        #expect(httpGet(base + "/healthz")?.status == 200, "one rebuild is not a failure")
        #expect(harness.pipeline.stats.snapshot.deliveryFailures > failuresBefore, "the fault reached the worker")

    }

    /// A rebuilt stage commits, empty, while it waits to join its group: counted as commits that
    /// went through, those hid a stage whose every restore failed.
    @Test("/healthz names a stage whose every restore fails, with the reason", .timeLimit(.minutes(3)))
    func restoreFailsEveryTime() throws {
        let cluster = try cluster()
        // The mock completes a join into a non-empty group only session.timeout.ms - 1 s later.
        let config = try TestConfig.make(properties: ["session.timeout.ms": "6000"])
        // A changelog marker of a format no worker writes: refused, never skipped.
        try produce(
            [
                Scenario.Message(
                    topic: config.worker.topics.changelog, partition: 0, key: Array("x".utf8), value: [0x00],
                    kind: .bad(reason: "foreign marker"))
            ], bootstrap: cluster.bootstrapServers)
        let health = HealthState()
        let server = try ObservabilityServer(
            host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(), health: health)
        defer { server.shutdown() }
        let harness = PipelineHarness(config: config, bootstrap: cluster.bootstrapServers, health: health)
        let base = "http://127.0.0.1:\(server.port)"
        harness.start()
        defer { harness.stop() }
        var body = ""
        let reported = waitFor(.seconds(120)) {
            guard let r = httpGet(base + "/healthz"), r.status == 503 else { return false }
            body = r.body
            return true
        }
        #expect(reported, "healthz stayed ok")
        #expect(
            body.hasPrefix(
                "aggregate: rebuilt 3 times without a commit going through; the last time: restore of tasks "),
            "\(body)")
        #expect(
            body.contains("a changelog record of format version 0x0; this worker reads version 0xD1 only"), "\(body)")
        #expect(httpGet(base + "/readyz")?.status == 503)
        #expect(harness.pipeline.stats.snapshot.aggregated == 0)
    }

    @Test("health rules: a stage that stops moving, one rebuilt three times in a row, one restoring")
    func healthRules() {
        let now = Atomic<Int64>(1_000_000)
        let health = HealthState { now.load(ordering: .relaxed) }
        health.setStallTimeout(millis: 10_000)
        health.setJoined(true)
        health.setReachable(true)
        health.stageStarted("route")
        health.stageStarted("aggregate")
        #expect(health.isAlive && health.isReady)
        now.add(9_000, ordering: .relaxed)
        health.stageProgressed("route")
        now.add(2_000, ordering: .relaxed)
        #expect(health.problems == ["aggregate: no progress for 11 s"])
        health.stageProgressed("aggregate")
        #expect(health.isAlive)
        // Rebuilds: not ready while one is under way; three in a row without a commit, not alive.
        for k in 1...3 {
            health.stageBroke("aggregate", reason: "restore failed (\(k))")
            #expect(!health.isReady && health.notReadyReasons == ["aggregate is being rebuilt"])
            health.stageStarted("aggregate")
            #expect(health.isAlive == (k < 3), "after \(k) rebuilds")
        }
        // With the last failure's reason: the count alone does not tell an operator what to fix.
        #expect(
            health.problems == [
                "aggregate: rebuilt 3 times without a commit going through; the last time: restore failed (3)"
            ])
        health.stageCommitted("aggregate")
        #expect(health.isAlive)
        // A long restore is not a stall, but the stage is not ready meanwhile.
        health.stageRestoring("aggregate", true)
        now.add(60_000, ordering: .relaxed)
        health.stageProgressed("route")
        #expect(health.isAlive && health.notReadyReasons == ["aggregate is restoring its state"])
        health.stageRestoring("aggregate", false)
        #expect(health.isAlive && health.isReady)
    }

    @Test("secrets never reach the logs or check-config output", .timeLimit(.minutes(2)))
    func secretsStayHidden() throws {
        let secret = "Sup3r-s3cret-Pa55"
        let cluster = try cluster()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sp-secret-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "kafka:\n  properties:\n    sasl.username: worker\n    ssl.key.password: \(secret)x\n"
            .write(to: dir.appendingPathComponent("worker.yaml"), atomically: true, encoding: .utf8)
        let config = try ConfigLoader.load(
            directory: dir.path,
            environment: [
                "SALESPULSE_KAFKA_PROPERTIES_SASL_PASSWORD": secret,
                "SALESPULSE_KAFKA_BROKERS": cluster.bootstrapServers,
            ])
        #expect(config.worker.kafka.properties["sasl.password"] == secret)

        let report = try ConfigReport.render(config)
        #expect(!report.contains(secret))
        #expect(
            report.contains("sasl.password: '[REDACTED]'") || report.contains("sasl.password: \"[REDACTED]\"")
                || report.contains("sasl.password: [REDACTED]"))
        #expect(report.contains("sasl.username: worker"))

        let lines = Mutex<[String]>([])
        let secrets = SecretRedaction.secretValues(config.worker.kafka.properties)
        var handler = JSONLogHandler(label: "test", secrets: secrets) { line in lines.withLock { $0.append(line) } }
        handler.logLevel = .debug
        let logger = Logger(label: "test", factory: { _ in handler })
        logger.error("librdkafka echoed a property", metadata: ["value": "\(secret)"])
        KafkaLog.route(to: logger)
        defer { KafkaLog.route(to: nil) }
        // sasl.* on a plaintext listener is ignored by librdkafka, so the worker runs normally.
        let harness = PipelineHarness(config: config, bootstrap: cluster.bootstrapServers, logger: logger)
        harness.start()
        #expect(waitFor(.seconds(30)) { harness.pipeline.health.isReady })
        #expect(harness.stop())
        let logged = lines.withLock { $0 }
        #expect(logged.contains { $0.contains("pipeline started") && $0.contains("sasl.password=[REDACTED]") })
        #expect(logged.contains { $0.contains("\"value\":\"[REDACTED]\"") })
        #expect(!logged.contains { $0.contains(secret) }, "a log line carries the secret")
        for line in logged {
            let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(json?["ts"] is String && json?["level"] is String && json?["msg"] is String)
        }
    }
}
