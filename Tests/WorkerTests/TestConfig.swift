import SalesKPI
import TestSupport
import Worker

/// The configuration the pipeline tests run with, and the same targets for the reference.
enum TestConfig {
    static let windows = ["day", "week", "month", "quarter", "7d/1d"]

    static let targets: [TargetsFile.Entry] = [
        .init(scope: "region", region: "east", period: "month", amount: "900000"),
        .init(scope: "region", region: "west", period: "month", amount: "900000"),
        .init(scope: "region", region: "north", period: "month", amount: "900000"),
        .init(scope: "region", region: "south", period: "month", amount: "700000"),
        .init(scope: "rep", region: "east", rep: "east-r1", period: "month", amount: "300000"),
        .init(scope: "company", period: "quarter", amount: "9000000"),
    ]

    static func make(
        partitions: Int = 8, properties: [String: String] = [:], aggregateThreads: Int = 1, routeStage: Bool = true,
        maxEventBytes: Int = ScenarioGenerator.maxEventBytes, windows: [String] = windows,
        timeZone: String = "Asia/Shanghai"
    ) throws -> ResolvedConfig {
        var w = WorkerConfig()
        w.processing.routeStage = routeStage
        w.kafka.properties = properties
        w.kafka.brokers = "set-by-test"
        w.kafka.groupId = "salespulse-test"
        w.topics.partitions = partitions
        w.topics.internalPartitions = 6
        w.processing.commitInterval = "500ms"
        w.processing.maxEventBytes = maxEventBytes
        w.processing.aggregateThreads = aggregateThreads
        w.time.windows = windows
        w.time.timeZone = timeZone
        w.time.emitInterval = "1s"
        w.alerts.locale = .en
        let markets = MarketsFile(
            regions: ["east": ["month": "5000000"], "south": ["quarter": "20000000"]], company: ["month": "30000000"])
        return try ResolvedConfig.resolve(w, TargetsFile(targets: targets), markets)
    }

    static var referenceTargets: [ReferenceAlerts.Target] {
        targets.map { t in
            let scope = ReferenceModel.Scope(kind: t.scope, region: t.region ?? "", rep: t.rep ?? "")
            return ReferenceAlerts.Target(scope: scope, period: t.period, amountMinor: Int64(t.amount)! * 100)
        }
    }

    static let marketSizes: [String: Int64] = [
        "region:east:month": 500_000_000, "region:south:quarter": 2_000_000_000, "company::month": 3_000_000_000,
    ]
}
