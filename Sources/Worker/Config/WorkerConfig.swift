import SalesKPI

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
    package var logLevel = LogLevelSetting.info
    package var logFormat = LogFormat.json

    package init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kafka, topics, processing, time, money, alerts, simulator, observability
        case logLevel = "log_level"
        case logFormat = "log_format"
    }

    package init(from decoder: any Decoder) throws {
        let r = try SettingReader(decoder, CodingKeys.self)
        try r.read(.kafka, into: &kafka)
        try r.read(.topics, into: &topics)
        try r.read(.processing, into: &processing)
        try r.read(.time, into: &time)
        try r.read(.money, into: &money)
        try r.read(.alerts, into: &alerts)
        try r.read(.simulator, into: &simulator)
        try r.read(.observability, into: &observability)
        try r.read(.logLevel, into: &logLevel)
        try r.read(.logFormat, into: &logFormat)
    }

    package struct ObservabilitySection: Codable, Sendable, Equatable {
        /// Port of the HTTP endpoint serving /metrics, /healthz and /readyz (0: off).
        package var port = 9464
        package var bind = "0.0.0.0"
        /// A stage that has not moved for this long (blocked in a call) fails /healthz.
        package var stallTimeout: DurationSetting = "2m"

        enum CodingKeys: String, CodingKey, CaseIterable {
            case port, bind
            case stallTimeout = "stall_timeout"
        }

        package init() {}

        package init(from decoder: any Decoder) throws {
            let r = try SettingReader(decoder, CodingKeys.self)
            try r.read(.port, into: &port)
            try r.read(.bind, into: &bind)
            try r.read(.stallTimeout, into: &stallTimeout)
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
            let r = try SettingReader(decoder, CodingKeys.self)
            try r.read(.brokers, into: &brokers)
            try r.read(.groupId, into: &groupId)
            try r.read(.clientId, into: &clientId)
            try r.read(.properties, into: &properties)
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
            let r = try SettingReader(decoder, CodingKeys.self)
            try r.read(.deals, into: &deals)
            try r.read(.customers, into: &customers)
            try r.read(.spend, into: &spend)
            try r.read(.summaries, into: &summaries)
            try r.read(.alerts, into: &alerts)
            try r.read(.dlq, into: &dlq)
            try r.read(.internal, into: &`internal`)
            try r.read(.changelog, into: &changelog)
            try r.read(.rollup, into: &rollup)
            try r.read(.rollupChangelog, into: &rollupChangelog)
            try r.read(.internalPartitions, into: &internalPartitions)
            try r.read(.partitions, into: &partitions)
            try r.read(.replicationFactor, into: &replicationFactor)
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

        package var exactlyOnce: Bool { processingGuarantee == .exactlyOnce }

        package init(from decoder: any Decoder) throws {
            let r = try SettingReader(decoder, CodingKeys.self)
            try r.read(.processingGuarantee, into: &processingGuarantee)
            try r.read(.routeStage, into: &routeStage)
            try r.read(.instanceId, into: &instanceId)
            try r.read(.commitInterval, into: &commitInterval)
            try r.read(.maxEventBytes, into: &maxEventBytes)
            try r.read(.pollBatch, into: &pollBatch)
            try r.read(.aggregateThreads, into: &aggregateThreads)
            try r.read(.maxRegions, into: &maxRegions)
            try r.read(.maxRepsPerRegion, into: &maxRepsPerRegion)
            try r.read(.repIdleTimeout, into: &repIdleTimeout)
        }
    }

    package struct TimeSection: Codable, Sendable, Equatable {
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
            let r = try SettingReader(decoder, CodingKeys.self)
            try r.read(.timeZone, into: &timeZone)
            try r.read(.windows, into: &windows)
            try r.read(.allowedLateness, into: &allowedLateness)
            try r.read(.idleTimeout, into: &idleTimeout)
            try r.read(.maxFuture, into: &maxFuture)
            try r.read(.emitInterval, into: &emitInterval)
            try r.read(.dedupeHorizon, into: &dedupeHorizon)
            try r.read(.revisionHorizon, into: &revisionHorizon)
            try r.read(.earliestYear, into: &earliestYear)
            try r.read(.latestYear, into: &latestYear)
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
            let r = try SettingReader(decoder, CodingKeys.self)
            try r.read(.reportingCurrency, into: &reportingCurrency)
            try r.read(.fx, into: &fx)
        }
    }

    package struct AlertsSection: Codable, Sendable, Equatable {
        package var locale = LocaleSetting.zhCN
        package var targetSlipping = TargetSlipping()
        package var cacSpike = CACSpike()

        enum CodingKeys: String, CodingKey, CaseIterable {
            case locale
            case targetSlipping = "target_slipping"
            case cacSpike = "cac_spike"
        }

        package init() {}

        package init(from decoder: any Decoder) throws {
            let r = try SettingReader(decoder, CodingKeys.self)
            try r.read(.locale, into: &locale)
            try r.read(.targetSlipping, into: &targetSlipping)
            try r.read(.cacSpike, into: &cacSpike)
        }

        package struct TargetSlipping: Codable, Sendable, Equatable {
            // The defaults are the domain's (RuleSettings), written there once.
            package var enabled = RuleSettings.TargetSlipping().enabled
            package var minElapsed = RuleSettings.TargetSlipping().minElapsed
            package var tolerance = RuleSettings.TargetSlipping().tolerance
            package var criticalProjection = RuleSettings.TargetSlipping().criticalProjection
            package var hysteresis = RuleSettings.TargetSlipping().hysteresis

            enum CodingKeys: String, CodingKey, CaseIterable {
                case enabled
                case minElapsed = "min_elapsed"
                case tolerance
                case criticalProjection = "critical_projection"
                case hysteresis
            }

            package init() {}

            package init(from decoder: any Decoder) throws {
                let r = try SettingReader(decoder, CodingKeys.self)
                try r.read(.enabled, into: &enabled)
                try r.read(.minElapsed, into: &minElapsed)
                try r.read(.tolerance, into: &tolerance)
                try r.read(.criticalProjection, into: &criticalProjection)
                try r.read(.hysteresis, into: &hysteresis)
            }
        }

        package struct CACSpike: Codable, Sendable, Equatable {
            package var enabled = RuleSettings.CACSpike().enabled
            package var window = RuleSettings.CACSpike().window
            package var baselineWindows = RuleSettings.CACSpike().baselineWindows
            package var minHistory = RuleSettings.CACSpike().minHistory
            package var factor = RuleSettings.CACSpike().factor
            package var minCustomers = RuleSettings.CACSpike().minCustomers

            enum CodingKeys: String, CodingKey, CaseIterable {
                case enabled, window
                case baselineWindows = "baseline_windows"
                case minHistory = "min_history"
                case factor
                case minCustomers = "min_customers"
            }

            package init() {}

            package init(from decoder: any Decoder) throws {
                let r = try SettingReader(decoder, CodingKeys.self)
                try r.read(.enabled, into: &enabled)
                try r.read(.window, into: &window)
                try r.read(.baselineWindows, into: &baselineWindows)
                try r.read(.minHistory, into: &minHistory)
                try r.read(.factor, into: &factor)
                try r.read(.minCustomers, into: &minCustomers)
            }
        }
    }

    package struct SimulatorSection: Codable, Sendable, Equatable {
        /// Business time per wall-clock second of the simulated feed.
        package var speed: DurationSetting = "1d"
        package var start = "2026-01-05T00:00:00+08:00"
        package var seed = 42

        enum CodingKeys: String, CodingKey, CaseIterable {
            case speed, start, seed
        }

        package init() {}

        package init(from decoder: any Decoder) throws {
            let r = try SettingReader(decoder, CodingKeys.self)
            try r.read(.speed, into: &speed)
            try r.read(.start, into: &start)
            try r.read(.seed, into: &seed)
        }
    }
}
