import Foundation
import Logging
import SalesKPI
import Synchronization
import Testing
import Worker

@Suite("Configuration loading and validation")
struct ConfigTests {
    private func load(worker: String, environment: [String: String]) throws -> ResolvedConfig {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("salespulse-env-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try worker.write(to: dir.appendingPathComponent("worker.yaml"), atomically: true, encoding: .utf8)
        return try ConfigLoader.load(directory: dir.path, environment: environment)
    }

    @Test("SALESPULSE_ environment variables override worker.yaml key by key")
    func environmentOverrides() throws {
        let config = try load(
            worker: "kafka:\n  brokers: from-file:9092\ntime:\n  allowed_lateness: 2h\n",
            environment: [
                "SALESPULSE_KAFKA_BROKERS": "from-env:9092",
                "SALESPULSE_TIME_WINDOWS": "day, month",
                "SALESPULSE_ALERTS_CAC_SPIKE_WINDOW": "month",
                "SALESPULSE_ALERTS_CAC_SPIKE_FACTOR": "2.5",
                "SALESPULSE_TOPICS_INTERNAL_PARTITIONS": "3",
                "SALESPULSE_MONEY_FX_GBP": "9.05",
                "SALESPULSE_KAFKA_PROPERTIES_SASL_PASSWORD": "pw",
                "SALESPULSE_KAFKA_PROPERTIES_LOG__LEVEL": "6",
                "UNRELATED": "x",
            ])
        #expect(config.worker.kafka.brokers == "from-env:9092")
        #expect(config.worker.time.allowedLateness == "2h")
        #expect(config.worker.time.windows == ["day", "month"])
        #expect(config.worker.alerts.cacSpike.factor == 2.5)
        #expect(config.worker.topics.internalPartitions == 3)
        #expect(config.worker.money.fx["GBP"] == "9.05")
        #expect(config.worker.kafka.properties == ["sasl.password": "pw", "log_level": "6"])
    }

    @Test("a bad environment override is reported like a bad file value")
    func badEnvironmentOverride() {
        #expect(throws: ConfigError.self) {
            try load(worker: "", environment: ["SALESPULSE_TIME_IDLE_TIMEOUT": "later"])
        }
        #expect(EnvironmentOverrides.variable(for: "time.idle_timeout") == "SALESPULSE_TIME_IDLE_TIMEOUT")
    }

    private func problems(worker: String = "", targets: String = "", markets: String = "") -> [String] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "salespulse-config-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try! worker.write(to: dir.appendingPathComponent("worker.yaml"), atomically: true, encoding: .utf8)
        try! targets.write(to: dir.appendingPathComponent("targets.yaml"), atomically: true, encoding: .utf8)
        try! markets.write(to: dir.appendingPathComponent("markets.yaml"), atomically: true, encoding: .utf8)
        do {
            _ = try ConfigLoader.load(directory: dir.path)
            return []
        } catch {
            return error.problems
        }
    }

    @Test("the shipped config folder is valid and names no brokers (the demo runs it with --embedded)")
    func shippedConfig() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let config = try ConfigLoader.load(directory: root.appendingPathComponent("config").path)
        #expect(config.hasNoBrokers)
        #expect(config.settings.windows.map(\.name) == ["day", "week", "month", "quarter"])
        #expect(config.settings.targets.periods.contains(.month))
    }

    @Test("empty files mean all defaults")
    func emptyFiles() {
        #expect(problems().isEmpty)
    }

    @Test(
        "each wrong value is reported with its file and key",
        arguments: [
            ("time:\n  allowed_lateness: 1x\n", "worker.yaml: time.allowed_lateness"),
            ("time:\n  time_zone: Mars/Olympus\n", "worker.yaml: time.time_zone"),
            ("time:\n  windows: [day, fortnight]\n", "worker.yaml: time.windows[1]"),
            ("time:\n  windows: []\n", "worker.yaml: time.windows"),
            ("money:\n  fx:\n    USD: \"-7\"\n", "worker.yaml: money.fx.USD"),
            ("money:\n  reporting_currency: yuan\n", "worker.yaml: money.reporting_currency"),
            ("alerts:\n  locale: fr\n", "worker.yaml: alerts.locale"),
            (
                "alerts:\n  cac_spike:\n    window: month\ntime:\n  windows: [day, week]\n",
                "worker.yaml: alerts.cac_spike.window"
            ),
            ("alerts:\n  cac_spike:\n    factor: abc\n", "worker.yaml: alerts.cac_spike.factor"),
            ("alerts:\n  target_slipping:\n    tolerance: 1.5\n", "worker.yaml: alerts.target_slipping.tolerance"),
            ("topics:\n  internal_partitions: 0\n", "worker.yaml: topics.internal_partitions"),
            ("processing:\n  processing_guarantee: maybe_once\n", "worker.yaml: processing.processing_guarantee"),
            ("processing:\n  aggregate_threads: 0\n", "worker.yaml: processing.aggregate_threads"),
            ("topics:\n  summaries: crm.deals\n", "worker.yaml: topics.summaries"),
            ("topics:\n  dlq: \"bad topic!\"\n", "worker.yaml: topics.dlq"),
            ("log_level: loud\n", "worker.yaml: log_level"),
            ("kafka:\n  brokerz: localhost:9092\n", "worker.yaml: kafka.brokerz: unknown key"),
            ("time: [1, 2]\n", "worker.yaml: time: expected a mapping"),
            ("simulator:\n  start: tomorrow\n", "worker.yaml: simulator.start"),
            ("time: {\n", "worker.yaml: not valid YAML"),
            ("log_format: xml\n", "worker.yaml: log_format"),
            ("observability:\n  port: 70000\n", "worker.yaml: observability.port"),
        ])
    func workerProblems(yaml: String, expected: String) {
        let found = problems(worker: yaml)
        #expect(found.contains { $0.hasPrefix(expected) }, "got \(found)")
    }

    @Test(
        "target and market problems name their entry",
        arguments: [
            (
                "targets:\n  - {scope: region, region: east, period: fortnight, amount: \"1\"}\n", "",
                "targets.yaml: targets[0].period"
            ),
            ("targets:\n  - {scope: region, period: month, amount: \"1\"}\n", "", "targets.yaml: targets[0].region"),
            ("targets:\n  - {scope: team, period: month, amount: \"1\"}\n", "", "targets.yaml: targets[0].scope"),
            (
                "targets:\n  - {scope: company, period: month, amount: \"lots\"}\n", "",
                "targets.yaml: targets[0].amount"
            ),
            ("targets:\n  - {scope: company, period: month}\n", "", "targets.yaml: targets[0].amount"),
            ("", "regions:\n  east: {year: \"5\"}\n", "markets.yaml: regions.east.year"),
            ("", "company:\n  month: \"-1\"\n", "markets.yaml: company.month"),
        ])
    func targetProblems(targets: String, markets: String, expected: String) {
        let found = problems(targets: targets, markets: markets)
        #expect(found.contains { $0.hasPrefix(expected) }, "got \(found)")
    }

    @Test("every problem is reported at once")
    func allAtOnce() {
        let found = problems(
            worker:
                "time:\n  allowed_lateness: x\n  idle_timeout: y\nalerts:\n  locale: en\ntopics:\n  internal_partitions: -1\n"
        )
        #expect(found.count == 3, "got \(found)")
        // A bad locale is one problem among the others, not the end of the report.
        let withLocale = problems(
            worker: "time:\n  allowed_lateness: x\nalerts:\n  locale: fr\n  target_slipping:\n    tolerance: 2\n")
        #expect(withLocale.count == 3, "got \(withLocale)")
        #expect(withLocale.contains { $0.contains("alerts.locale") })
        #expect(withLocale.contains { $0.contains("alerts.target_slipping.tolerance") }, "checked after the locale")
        // A misspelt key does not stop the values around it being checked; a value of the wrong
        // shape is reported once.
        let withTypo = problems(
            worker:
                "processing:\n  pollbatch: 3\n  poll_batch: nope\ntime:\n  windows: day\n  allowed_lateness: x\ntopics:\n  internal_partitions: -1\n"
        )
        #expect(withTypo.count == 5, "got \(withTypo)")
        #expect(withTypo.contains { $0.contains("topics.internal_partitions") }, "limits are checked too")
        #expect(withTypo.contains { $0.contains("processing.pollbatch: unknown key") })
        #expect(withTypo.contains { $0.contains("processing.poll_batch") })
        #expect(withTypo.contains { $0.contains("time.windows: expected a list") })
        #expect(withTypo.contains { $0.contains("time.allowed_lateness") })
    }

    @Test("typed settings: each bad value names its key and what it may be, all in one report")
    func typedValuesAtOnce() {
        let found = problems(
            worker: """
                processing:
                  processing_guarantee: maybe_once
                  commit_interval: often
                time:
                  revision_horizon: sometime
                alerts:
                  locale: fr
                observability:
                  port: eighty
                log_level: loud
                log_format: xml
                topics:
                  internal_partitions: 0
                """)
        let expected = [
            "worker.yaml: processing.processing_guarantee: 'maybe_once' is not one of exactly_once, at_least_once",
            "worker.yaml: processing.commit_interval: 'often' is not a duration such as 500ms, 30s, 15m, 1h or 7d",
            "worker.yaml: time.revision_horizon: 'sometime' is not auto, off or a duration such as 7d",
            "worker.yaml: alerts.locale: 'fr' is not one of zh-CN, en",
            "worker.yaml: observability.port: expected an integer",
            "worker.yaml: log_level: 'loud' is not one of trace, debug, info, notice, warning, error, critical",
            "worker.yaml: log_format: 'xml' is not one of json, text",
            // Checked after decoding, with the bad values at their defaults.
            "worker.yaml: topics.internal_partitions: must be between 1 and 10000",
        ]
        #expect(found.sorted() == expected.sorted(), "got \(found)")
    }

    @Test("typed values read as written, and the alert rules' defaults are the domain's")
    func typedValues() throws {
        let config = try load(
            worker:
                "processing:\n  processing_guarantee: at_least_once\ntime:\n  revision_horizon: 'off'\nlog_level: debug\n",
            environment: [:])
        #expect(!config.worker.processing.exactlyOnce)
        #expect(config.settings.revisionHorizonSetting == 0)
        #expect(config.worker.logLevel.level == .debug)
        #expect(config.commitIntervalMillis == 1_000)
        #expect(config.settings.rules == RuleSettings())
    }

    @Test("internal topics derive from kafka.group_id unless set, so two deployments never share one")
    func derivedTopics() throws {
        let defaults = try ResolvedConfig.resolve(WorkerConfig(), TargetsFile(), MarketsFile())
        #expect(
            defaults.worker.topics.internals == [
                "salespulse-events", "salespulse-changelog", "salespulse-rollup", "salespulse-rollup-changelog",
            ])
        var w = WorkerConfig()
        w.kafka.groupId = "acme.sales"
        w.topics.changelog = "shared-changelog"
        let acme = try ResolvedConfig.resolve(w, TargetsFile(), MarketsFile())
        #expect(
            acme.worker.topics.internals == [
                "acme.sales-events", "shared-changelog", "acme.sales-rollup", "acme.sales-rollup-changelog",
            ])
        #expect(acme.derivedTopics == ["topics.internal", "topics.rollup", "topics.rollup_changelog"])
        // Output topics are the user's and never derived.
        #expect(acme.worker.topics.outputs == ["kpi.summaries", "kpi.alerts", "kpi.dlq"])

        let bad = problems(worker: "kafka:\n  group_id: \"sales team\"\n")
        #expect(
            bad.contains {
                $0.hasPrefix("worker.yaml: topics.changelog: 'sales team-changelog'") && $0.contains("kafka.group_id")
            })
        #expect(problems(worker: "kafka:\n  group_id: \"\"\n").contains { $0.hasPrefix("worker.yaml: kafka.group_id") })
    }

    @Test("a cluster with v1's kpi.* internal topics and none of the derived ones refuses to start")
    func v1TopicsRefused() throws {
        let config = try ResolvedConfig.resolve(WorkerConfig(), TargetsFile(), MarketsFile())
        let v1 = Set(InternalTopics.v1Names + ["crm.deals", "kpi.summaries"])
        let refusal = try #require(TopicProvisioner.v1Refusal(config, existing: v1))
        #expect(refusal.description.contains("topics.changelog: kpi.changelog"))
        #expect(refusal.description.contains("topics.rollup_changelog: kpi.rollup-changelog"))
        // Already upgraded (the derived topics exist), or a fresh cluster: no refusal.
        #expect(TopicProvisioner.v1Refusal(config, existing: v1.union(config.worker.topics.internals)) == nil)
        #expect(TopicProvisioner.v1Refusal(config, existing: ["crm.deals"]) == nil)
        // Every internal topic set by hand: the user chose, nothing is derived.
        var w = WorkerConfig()
        w.topics.internal = "kpi.events"
        w.topics.changelog = "kpi.changelog"
        w.topics.rollup = "kpi.rollup"
        w.topics.rollupChangelog = "kpi.rollup-changelog"
        let pinned = try ResolvedConfig.resolve(w, TargetsFile(), MarketsFile())
        #expect(TopicProvisioner.v1Refusal(pinned, existing: v1) == nil)
    }

    @Test("more than 255 windows is a configuration problem (exit 2), not a crash")
    func tooManyWindows() {
        let windows = (1...256).map { "\($0)m" }.joined(separator: ", ")
        let found = problems(worker: "time:\n  windows: [\(windows)]\n")
        #expect(found.contains { $0.contains("at most 255 windows") }, "got \(found)")
    }

    @Test(
        "secret librdkafka properties are redacted",
        arguments: [
            ("sasl.password", true), ("ssl.key.password", true), ("sasl.oauthbearer.client.secret", true),
            ("sasl.jaas.config", true), ("ssl.key.pem", true), ("ssl.keystore.password", true),
            ("ssl.keystore.location", true), ("ssl.key.location", true), ("sasl.oauthbearer.config", true),
            ("SASL.PASSWORD", true), ("some.future.api.token", true), ("security.protocol", false),
            ("sasl.username", false), ("ssl.ca.location", false), ("sasl.mechanisms", false),
        ])
    func redaction(key: String, secret: Bool) {
        #expect(SecretRedaction.redact([key: "v"])[key] == (secret ? SecretRedaction.placeholder : "v"))
    }

    @Test("text logs scrub secret values from the message and the metadata, as JSON logs do")
    func textLogsScrub() {
        let lines = Mutex<[String]>([])
        let secrets = SecretRedaction.secretValues([
            "sasl.password": "hunter2-very-secret", "sasl.oauthbearer.config": "clientSecret=abc123",
            "sasl.username": "worker",
        ])
        var handler = TextLogHandler(label: "test", secrets: secrets) { line in lines.withLock { $0.append(line) } }
        handler.logLevel = .debug
        let logger = Logger(label: "test", factory: { _ in handler })
        logger.error(
            "connect failed with hunter2-very-secret", metadata: ["config": "clientSecret=abc123", "user": "worker"])
        let logged = lines.withLock { $0 }
        #expect(logged.count == 1)
        #expect(logged.allSatisfy { !$0.contains("hunter2") && !$0.contains("abc123") }, "\(logged)")
        #expect(logged.first?.contains("connect failed with [REDACTED]") == true)
        #expect(logged.first?.contains("config=[REDACTED]") == true && logged.first?.contains("user=worker") == true)
    }
}
