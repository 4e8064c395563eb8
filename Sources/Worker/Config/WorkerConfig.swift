/// `config/worker.yaml`: every optional field has a default, so an empty file is a valid config.
package struct WorkerConfig: Codable, Sendable, Equatable {
    package var kafka = KafkaSection()
    package var topics = TopicsSection()
    package var processing = ProcessingSection()
    package var time = TimeSection()
    package var money = MoneySection()
    package var alerts = AlertsSection()
    package var simulator = SimulatorSection()
    package var observability = ObservabilitySection()
    package var logLevel = "info"
    /// `json` (one object per line, for log pipelines) or `text`.
    package var logFormat = "json"

    package init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kafka, topics, processing, time, money, alerts, simulator, observability
        case logLevel = "log_level"
        case logFormat = "log_format"
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kafka = try c.decodeIfPresent(KafkaSection.self, forKey: .kafka) ?? kafka
        topics = try c.decodeIfPresent(TopicsSection.self, forKey: .topics) ?? topics
        processing = try c.decodeIfPresent(ProcessingSection.self, forKey: .processing) ?? processing
        time = try c.decodeIfPresent(TimeSection.self, forKey: .time) ?? time
        money = try c.decodeIfPresent(MoneySection.self, forKey: .money) ?? money
        alerts = try c.decodeIfPresent(AlertsSection.self, forKey: .alerts) ?? alerts
        simulator = try c.decodeIfPresent(SimulatorSection.self, forKey: .simulator) ?? simulator
        observability = try c.decodeIfPresent(ObservabilitySection.self, forKey: .observability) ?? observability
        logLevel = try c.decodeIfPresent(String.self, forKey: .logLevel) ?? logLevel
        logFormat = try c.decodeIfPresent(String.self, forKey: .logFormat) ?? logFormat
    }

    package struct ObservabilitySection: Codable, Sendable, Equatable {
        /// Port of the HTTP endpoint serving /metrics, /healthz and /readyz (0: off).
        package var port = 9464
        package var bind = "0.0.0.0"
        /// A stage that has not moved for this long (blocked in a call) fails /healthz.
        package var stallTimeout = "2m"

        enum CodingKeys: String, CodingKey, CaseIterable {
            case port, bind
            case stallTimeout = "stall_timeout"
        }

        package init() {}

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            port = try c.decodeIfPresent(Int.self, forKey: .port) ?? port
            bind = try c.decodeIfPresent(String.self, forKey: .bind) ?? bind
            stallTimeout = try c.decodeIfPresent(String.self, forKey: .stallTimeout) ?? stallTimeout
        }
    }

    package struct KafkaSection: Codable, Sendable, Equatable {
        /// Empty is only valid for the demo, `salespulse run --embedded`.
        package var brokers = ""
        package var groupId = "salespulse"
        package var clientId = "salespulse"
        /// Passed to librdkafka as is (security.protocol, sasl.*, ssl.*, tuning).
        package var properties: [String: String] = [:]

        enum CodingKeys: String, CodingKey, CaseIterable {
            case brokers
            case groupId = "group_id"
            case clientId = "client_id"
            case properties
        }

        package init() {}

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            brokers = try c.decodeIfPresent(String.self, forKey: .brokers) ?? brokers
            groupId = try c.decodeIfPresent(String.self, forKey: .groupId) ?? groupId
            clientId = try c.decodeIfPresent(String.self, forKey: .clientId) ?? clientId
            properties = try c.decodeIfPresent([String: String].self, forKey: .properties) ?? properties
        }
    }

    package struct TopicsSection: Codable, Sendable, Equatable {
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

        enum CodingKeys: String, CodingKey, CaseIterable {
            case deals, customers, spend, summaries, alerts, dlq, `internal`, changelog, rollup, partitions
            case rollupChangelog = "rollup_changelog"
            case internalPartitions = "internal_partitions"
            case replicationFactor = "replication_factor"
        }

        package init() {}

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            deals = try c.decodeIfPresent(String.self, forKey: .deals) ?? deals
            customers = try c.decodeIfPresent(String.self, forKey: .customers) ?? customers
            spend = try c.decodeIfPresent(String.self, forKey: .spend) ?? spend
            summaries = try c.decodeIfPresent(String.self, forKey: .summaries) ?? summaries
            alerts = try c.decodeIfPresent(String.self, forKey: .alerts) ?? alerts
            dlq = try c.decodeIfPresent(String.self, forKey: .dlq) ?? dlq
            `internal` = try c.decodeIfPresent(String.self, forKey: .internal) ?? `internal`
            changelog = try c.decodeIfPresent(String.self, forKey: .changelog) ?? changelog
            rollup = try c.decodeIfPresent(String.self, forKey: .rollup) ?? rollup
            rollupChangelog = try c.decodeIfPresent(String.self, forKey: .rollupChangelog) ?? rollupChangelog
            internalPartitions = try c.decodeIfPresent(Int.self, forKey: .internalPartitions) ?? internalPartitions
            partitions = try c.decodeIfPresent(Int.self, forKey: .partitions) ?? partitions
            replicationFactor = try c.decodeIfPresent(Int.self, forKey: .replicationFactor) ?? replicationFactor
        }

        /// The CRM topics, each once: one topic may carry every type (the `type` field decides).
        package var inputs: [String] {
            var seen: Set<String> = []
            return [deals, customers, spend].filter { seen.insert($0).inserted }
        }
        package var outputs: [String] { [summaries, alerts, dlq] }
        package var internals: [String] { [`internal`, changelog, rollup, rollupChangelog] }
    }

    package struct ProcessingSection: Codable, Sendable, Equatable {
        /// `exactly_once` (transactions) or `at_least_once`.
        package var processingGuarantee = "exactly_once"
        /// false: the input topics are already keyed by region and co-partitioned, so the aggregate
        /// stage reads them directly (partition n of every input topic is task n).
        package var routeStage = true
        /// Names this process's transactional producers; empty: host name and process id.
        package var instanceId = ""
        package var commitInterval = "1s"
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
        package var repIdleTimeout = "90d"

        enum CodingKeys: String, CodingKey, CaseIterable {
            case processingGuarantee = "processing_guarantee"
            case routeStage = "route_stage"
            case instanceId = "instance_id"
            case commitInterval = "commit_interval"
            case maxEventBytes = "max_event_bytes"
            case pollBatch = "poll_batch"
            case aggregateThreads = "aggregate_threads"
            case maxRegions = "max_regions"
            case maxRepsPerRegion = "max_reps_per_region"
            case repIdleTimeout = "rep_idle_timeout"
        }

        package init() {}

        package var exactlyOnce: Bool { processingGuarantee == "exactly_once" }

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            processingGuarantee =
                try c.decodeIfPresent(String.self, forKey: .processingGuarantee) ?? processingGuarantee
            routeStage = try c.decodeIfPresent(Bool.self, forKey: .routeStage) ?? routeStage
            instanceId = try c.decodeIfPresent(String.self, forKey: .instanceId) ?? instanceId
            commitInterval = try c.decodeIfPresent(String.self, forKey: .commitInterval) ?? commitInterval
            maxEventBytes = try c.decodeIfPresent(Int.self, forKey: .maxEventBytes) ?? maxEventBytes
            pollBatch = try c.decodeIfPresent(Int.self, forKey: .pollBatch) ?? pollBatch
            aggregateThreads = try c.decodeIfPresent(Int.self, forKey: .aggregateThreads) ?? aggregateThreads
            maxRegions = try c.decodeIfPresent(Int.self, forKey: .maxRegions) ?? maxRegions
            maxRepsPerRegion = try c.decodeIfPresent(Int.self, forKey: .maxRepsPerRegion) ?? maxRepsPerRegion
            repIdleTimeout = try c.decodeIfPresent(String.self, forKey: .repIdleTimeout) ?? repIdleTimeout
        }
    }

    package struct TimeSection: Codable, Sendable, Equatable {
        package var timeZone = "Asia/Shanghai"
        package var windows = ["day", "week", "month", "quarter"]
        package var allowedLateness = "1h"
        package var idleTimeout = "30s"
        package var maxFuture = "5m"
        package var emitInterval = "5s"
        package var dedupeHorizon = "1h"
        /// `auto` (the longest window plus the allowed lateness), a duration, or `off`.
        package var revisionHorizon = "auto"
        /// Event times outside these years are rejected as absurd.
        package var earliestYear = 2000
        package var latestYear = 2099

        enum CodingKeys: String, CodingKey, CaseIterable {
            case timeZone = "time_zone"
            case windows
            case allowedLateness = "allowed_lateness"
            case idleTimeout = "idle_timeout"
            case maxFuture = "max_future"
            case emitInterval = "emit_interval"
            case dedupeHorizon = "dedupe_horizon"
            case revisionHorizon = "revision_horizon"
            case earliestYear = "earliest_year"
            case latestYear = "latest_year"
        }

        package init() {}

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            timeZone = try c.decodeIfPresent(String.self, forKey: .timeZone) ?? timeZone
            windows = try c.decodeIfPresent([String].self, forKey: .windows) ?? windows
            allowedLateness = try c.decodeIfPresent(String.self, forKey: .allowedLateness) ?? allowedLateness
            idleTimeout = try c.decodeIfPresent(String.self, forKey: .idleTimeout) ?? idleTimeout
            maxFuture = try c.decodeIfPresent(String.self, forKey: .maxFuture) ?? maxFuture
            emitInterval = try c.decodeIfPresent(String.self, forKey: .emitInterval) ?? emitInterval
            dedupeHorizon = try c.decodeIfPresent(String.self, forKey: .dedupeHorizon) ?? dedupeHorizon
            revisionHorizon = try c.decodeIfPresent(String.self, forKey: .revisionHorizon) ?? revisionHorizon
            earliestYear = try c.decodeIfPresent(Int.self, forKey: .earliestYear) ?? earliestYear
            latestYear = try c.decodeIfPresent(Int.self, forKey: .latestYear) ?? latestYear
        }
    }

    package struct MoneySection: Codable, Sendable, Equatable {
        package var reportingCurrency = "CNY"
        /// Units of the reporting currency per unit of each currency, as exact decimals.
        package var fx: [String: String] = ["USD": "7.10", "EUR": "7.75", "HKD": "0.91", "JPY": "0.048"]

        enum CodingKeys: String, CodingKey, CaseIterable {
            case reportingCurrency = "reporting_currency"
            case fx
        }

        package init() {}

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            reportingCurrency = try c.decodeIfPresent(String.self, forKey: .reportingCurrency) ?? reportingCurrency
            fx = try c.decodeIfPresent([String: String].self, forKey: .fx) ?? fx
        }
    }

    package struct AlertsSection: Codable, Sendable, Equatable {
        package var locale = "zh-CN"
        package var targetSlipping = TargetSlipping()
        package var cacSpike = CACSpike()

        enum CodingKeys: String, CodingKey, CaseIterable {
            case locale
            case targetSlipping = "target_slipping"
            case cacSpike = "cac_spike"
        }

        package init() {}

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            locale = try c.decodeIfPresent(String.self, forKey: .locale) ?? locale
            targetSlipping = try c.decodeIfPresent(TargetSlipping.self, forKey: .targetSlipping) ?? targetSlipping
            cacSpike = try c.decodeIfPresent(CACSpike.self, forKey: .cacSpike) ?? cacSpike
        }

        package struct TargetSlipping: Codable, Sendable, Equatable {
            package var enabled = true
            package var minElapsed = 0.20
            package var tolerance = 0.15
            package var criticalProjection = 0.70
            package var hysteresis = 0.05

            enum CodingKeys: String, CodingKey, CaseIterable {
                case enabled
                case minElapsed = "min_elapsed"
                case tolerance
                case criticalProjection = "critical_projection"
                case hysteresis
            }

            package init() {}

            package init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? enabled
                minElapsed = try c.decodeIfPresent(Double.self, forKey: .minElapsed) ?? minElapsed
                tolerance = try c.decodeIfPresent(Double.self, forKey: .tolerance) ?? tolerance
                criticalProjection =
                    try c.decodeIfPresent(Double.self, forKey: .criticalProjection) ?? criticalProjection
                hysteresis = try c.decodeIfPresent(Double.self, forKey: .hysteresis) ?? hysteresis
            }
        }

        package struct CACSpike: Codable, Sendable, Equatable {
            package var enabled = true
            package var window = "week"
            package var baselineWindows = 8
            package var minHistory = 4
            package var factor = 1.5
            package var minCustomers = 5

            enum CodingKeys: String, CodingKey, CaseIterable {
                case enabled, window
                case baselineWindows = "baseline_windows"
                case minHistory = "min_history"
                case factor
                case minCustomers = "min_customers"
            }

            package init() {}

            package init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? enabled
                window = try c.decodeIfPresent(String.self, forKey: .window) ?? window
                baselineWindows = try c.decodeIfPresent(Int.self, forKey: .baselineWindows) ?? baselineWindows
                minHistory = try c.decodeIfPresent(Int.self, forKey: .minHistory) ?? minHistory
                factor = try c.decodeIfPresent(Double.self, forKey: .factor) ?? factor
                minCustomers = try c.decodeIfPresent(Int.self, forKey: .minCustomers) ?? minCustomers
            }
        }
    }

    package struct SimulatorSection: Codable, Sendable, Equatable {
        /// Business time per wall-clock second of the simulated feed.
        package var speed = "1d"
        package var start = "2026-01-05T00:00:00+08:00"
        package var seed = 42

        enum CodingKeys: String, CodingKey, CaseIterable {
            case speed, start, seed
        }

        package init() {}

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            speed = try c.decodeIfPresent(String.self, forKey: .speed) ?? speed
            start = try c.decodeIfPresent(String.self, forKey: .start) ?? start
            seed = try c.decodeIfPresent(Int.self, forKey: .seed) ?? seed
        }
    }
}
