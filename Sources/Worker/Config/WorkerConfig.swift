import SalesKPI

/// `config/worker.yaml`: every optional field has a default, so an empty file is a valid config.
package struct WorkerConfig: ConfigSection, Sendable, Equatable {
    package var kafka = KafkaSection()
    package var topics = TopicsSection()
    package var processing = ProcessingSection()
    package var time = TimeSection()
    package var money = MoneySection()
    package var alerts = AlertsSection()
    package var simulator = SimulatorSection()
    package var observability = ObservabilitySection()
    package var logLevel = LogLevelSetting.info
    package var logFormat = LogFormat.json

    package init() {}

    package static var settings: [Setting<Self>] {
        [
            .init("kafka", \.kafka),
            .init("topics", \.topics),
            .init("processing", \.processing),
            .init("time", \.time),
            .init("money", \.money),
            .init("alerts", \.alerts),
            .init("simulator", \.simulator),
            .init("observability", \.observability),
            .init("log_level", \.logLevel),
            .init("log_format", \.logFormat),
        ]
    }

    package struct ObservabilitySection: ConfigSection, Sendable, Equatable {
        /// Port of the HTTP endpoint serving /metrics, /healthz and /readyz (0: off).
        package var port = 9464
        package var bind = "0.0.0.0"
        /// A stage that has not moved for this long (blocked in a call) fails /healthz.
        package var stallTimeout: DurationSetting = "2m"

        package static var settings: [Setting<Self>] {
            [
                .init("port", \.port),
                .init("bind", \.bind),
                .init("stall_timeout", \.stallTimeout),
            ]
        }

        package init() {}

    }

    package struct KafkaSection: ConfigSection, Sendable, Equatable {
        /// Empty is only valid for the demo, `salespulse run --embedded`.
        package var brokers = ""
        package var groupId = "salespulse"
        package var clientId = "salespulse"
        /// Passed to librdkafka as is (security.protocol, sasl.*, ssl.*, tuning).
        package var properties: [String: String] = [:]

        package static var settings: [Setting<Self>] {
            [
                .init("brokers", \.brokers),
                .init("group_id", \.groupId),
                .init("client_id", \.clientId),
                .init("properties", \.properties, schema: .map(.scalar)),
            ]
        }

        package init() {}

    }

    package struct TopicsSection: ConfigSection, Sendable, Equatable {
        package var deals = "crm.deals"
        package var customers = "crm.customers"
        package var spend = "crm.spend"
        package var summaries = "kpi.summaries"
        package var alerts = "kpi.alerts"
        package var dlq = "kpi.dlq"
        // The four internal topics: empty means derived from `kafka.group_id` when the config is
        // resolved (`InternalTopics`), so two deployments never share a changelog.
        /// Region-keyed events between the route and aggregate stages.
        package var `internal` = ""
        /// Compacted changelog of the aggregate tasks' state, co-partitioned with `internal`.
        package var changelog = ""
        /// Region summaries and shard watermarks for the company rollup (one partition).
        package var rollup = ""
        package var rollupChangelog = ""
        /// Partitions of `internal` and `changelog`: the unit of scale-out.
        package var internalPartitions = 12
        /// Partitions and replication of topics the worker creates when they are missing.
        package var partitions = 6
        package var replicationFactor = 3

        package static var settings: [Setting<Self>] {
            [
                .init("deals", \.deals),
                .init("customers", \.customers),
                .init("spend", \.spend),
                .init("summaries", \.summaries),
                .init("alerts", \.alerts),
                .init("dlq", \.dlq),
                .init("internal", \.`internal`),
                .init("changelog", \.changelog),
                .init("rollup", \.rollup),
                .init("rollup_changelog", \.rollupChangelog),
                .init("internal_partitions", \.internalPartitions),
                .init("partitions", \.partitions),
                .init("replication_factor", \.replicationFactor),
            ]
        }

        package init() {}

        /// The CRM topics, each once: one topic may carry every type (the `type` field decides).
        package var inputs: [String] {
            var seen: Set<String> = []
            return [deals, customers, spend].filter { seen.insert($0).inserted }
        }
        package var outputs: [String] { [summaries, alerts, dlq] }
        package var internals: [String] { [`internal`, changelog, rollup, rollupChangelog] }
    }

    package struct ProcessingSection: ConfigSection, Sendable, Equatable {
        package var processingGuarantee = ProcessingGuarantee.exactlyOnce
        /// false: the input topics are already keyed by region and co-partitioned, so the aggregate
        /// stage reads them directly (partition n of every input topic is task n).
        package var routeStage = true
        /// Names this process's transactional producers; empty: host name and process id.
        package var instanceId = ""
        package var commitInterval: DurationSetting = "1s"
        package var maxEventBytes = 65536
        package var pollBatch = 2048
        /// Aggregate stage instances in this process, each a member of the aggregate group on its
        /// own thread with its own tasks: one process uses that many cores the way as many
        /// processes would. The route stage stays one per process: its instances forward to the
        /// same internal partitions independently, and in a backfill one running ahead in event
        /// time would push those tasks' watermarks past what the others have yet to send.
        package var aggregateThreads = 1
        /// Regions one task (internal partition) keeps, and reps per region: events of scopes past
        /// them are dead-lettered as `scope_limit`, so a producer inventing names cannot exhaust
        /// memory.
        package var maxRegions = 1_000
        package var maxRepsPerRegion = 10_000
        /// A rep scope without an event for this long in event time, and without open windows or
        /// a target, leaves memory and the changelog.
        package var repIdleTimeout: DurationSetting = "90d"

        package static var settings: [Setting<Self>] {
            [
                .init("processing_guarantee", \.processingGuarantee),
                .init("route_stage", \.routeStage),
                .init("instance_id", \.instanceId),
                .init("commit_interval", \.commitInterval),
                .init("max_event_bytes", \.maxEventBytes),
                .init("poll_batch", \.pollBatch),
                .init("aggregate_threads", \.aggregateThreads),
                .init("max_regions", \.maxRegions),
                .init("max_reps_per_region", \.maxRepsPerRegion),
                .init("rep_idle_timeout", \.repIdleTimeout),
            ]
        }

        package init() {}

        package var exactlyOnce: Bool { processingGuarantee == .exactlyOnce }

    }

    package struct TimeSection: ConfigSection, Sendable, Equatable {
        package var timeZone = "Asia/Shanghai"
        package var windows = ["day", "week", "month", "quarter"]
        package var allowedLateness: DurationSetting = "1h"
        package var idleTimeout: DurationSetting = "30s"
        package var maxFuture: DurationSetting = "5m"
        package var emitInterval: DurationSetting = "5s"
        package var dedupeHorizon: DurationSetting = "1h"
        package var revisionHorizon = RevisionHorizonSetting.auto
        /// Event times outside these years are rejected as absurd.
        package var earliestYear = 2000
        package var latestYear = 2099

        package static var settings: [Setting<Self>] {
            [
                .init("time_zone", \.timeZone),
                .init("windows", \.windows, schema: .list(.scalar)),
                .init("allowed_lateness", \.allowedLateness),
                .init("idle_timeout", \.idleTimeout),
                .init("max_future", \.maxFuture),
                .init("emit_interval", \.emitInterval),
                .init("dedupe_horizon", \.dedupeHorizon),
                .init("revision_horizon", \.revisionHorizon),
                .init("earliest_year", \.earliestYear),
                .init("latest_year", \.latestYear),
            ]
        }

        package init() {}

    }

    package struct MoneySection: ConfigSection, Sendable, Equatable {
        package var reportingCurrency = "CNY"
        /// Units of the reporting currency per unit of each currency, as exact decimals.
        package var fx: [String: String] = ["USD": "7.10", "EUR": "7.75", "HKD": "0.91", "JPY": "0.048"]

        package static var settings: [Setting<Self>] {
            [
                .init("reporting_currency", \.reportingCurrency),
                .init("fx", \.fx, schema: .map(.scalar)),
            ]
        }

        package init() {}

    }

    package struct AlertsSection: ConfigSection, Sendable, Equatable {
        package var locale = LocaleSetting.zhCN
        package var targetSlipping = TargetSlipping()
        package var cacSpike = CACSpike()

        package static var settings: [Setting<Self>] {
            [
                .init("locale", \.locale),
                .init("target_slipping", \.targetSlipping),
                .init("cac_spike", \.cacSpike),
            ]
        }

        package init() {}

        package struct TargetSlipping: ConfigSection, Sendable, Equatable {
            // The defaults are the domain's (RuleSettings), written there once.
            package var enabled = RuleSettings.TargetSlipping().enabled
            package var minElapsed = RuleSettings.TargetSlipping().minElapsed
            package var tolerance = RuleSettings.TargetSlipping().tolerance
            package var criticalProjection = RuleSettings.TargetSlipping().criticalProjection
            package var hysteresis = RuleSettings.TargetSlipping().hysteresis

            package static var settings: [Setting<Self>] {
                [
                    .init("enabled", \.enabled),
                    .init("min_elapsed", \.minElapsed),
                    .init("tolerance", \.tolerance),
                    .init("critical_projection", \.criticalProjection),
                    .init("hysteresis", \.hysteresis),
                ]
            }

            package init() {}

        }

        package struct CACSpike: ConfigSection, Sendable, Equatable {
            package var enabled = RuleSettings.CACSpike().enabled
            package var window = RuleSettings.CACSpike().window
            package var baselineWindows = RuleSettings.CACSpike().baselineWindows
            package var minHistory = RuleSettings.CACSpike().minHistory
            package var factor = RuleSettings.CACSpike().factor
            package var minCustomers = RuleSettings.CACSpike().minCustomers

            package static var settings: [Setting<Self>] {
                [
                    .init("enabled", \.enabled),
                    .init("window", \.window),
                    .init("baseline_windows", \.baselineWindows),
                    .init("min_history", \.minHistory),
                    .init("factor", \.factor),
                    .init("min_customers", \.minCustomers),
                ]
            }

            package init() {}

        }
    }

    package struct SimulatorSection: ConfigSection, Sendable, Equatable {
        /// Business time per wall-clock second of the simulated feed.
        package var speed: DurationSetting = "1d"
        package var start = "2026-01-05T00:00:00+08:00"
        package var seed = 42

        package static var settings: [Setting<Self>] {
            [
                .init("speed", \.speed),
                .init("start", \.start),
                .init("seed", \.seed),
            ]
        }

        package init() {}

    }
}
