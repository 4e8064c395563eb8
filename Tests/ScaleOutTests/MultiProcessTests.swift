import Foundation
import Kafka
import TestSupport
import Testing
import Worker

/// Worker processes on a standalone broker process, at the default lateness (1 h) and idle
/// timeout: scale-out on a backlog, a crash, a replacement and a new member, then every output
/// compared with the reference (docs/guarantees.md, event time).
@Suite("Scale-out across processes", .serialized)
struct MultiProcessTests {
    static let lateness: Int64 = 3_600_000

    /// Over 500,000 events in 61 days, deals ten times the spend, 100 regions.
    static func backlog() -> (ScenarioGenerator, Scenario) {
        var generator = ScenarioGenerator(
            seed: 3, days: 61, regions: (0..<100).map { "r" + String(1000 + $0).dropFirst() }, density: 6)
        generator.dealWeight = 4
        generator.inputPartitions = ScaleCluster.inputPartitions
        // Before the data: late for every partition once it has delivered anything.
        generator.lateTime = ReferenceCalendar.parse("2025-10-01T12:00:00+08:00")
        generator.closingTime = ReferenceCalendar.parse("2026-08-01T12:00:00+08:00")
        print("FIGURES scenario seed 3")
        return (generator, generator.generate())
    }

    @Test(
        "three workers started together on a 500,000-event backlog: nothing late, every final exact and once",
        .timeLimit(.minutes(20)))
    func startedTogether() throws {
        let (generator, scenario) = Self.backlog()
        let cluster = try ScaleCluster(name: "together")
        try Self.checkSizes(scenario)
        try produce(scenario.bulk, bootstrap: cluster.bootstrap)
        let began = Date()
        for k in 1...3 { try cluster.start("w\(k)") }
        try finish(cluster, generator, scenario, killed: [], began: began)
    }

    @Test(
        "kill -9 of a worker that owns partitions, a replacement and a later member: nothing late, every final exact",
        .timeLimit(.minutes(20)))
    func killReplaceAndGrow() throws {
        let (generator, scenario) = Self.backlog()
        let kill = KillPlan.fromEnvironment()
        let cluster = try ScaleCluster(name: "kill")
        let began = Date()
        for k in 1...3 { try cluster.start("w\(k)") }
        let chunks = 8
        let size = (scenario.bulk.count + chunks - 1) / chunks
        var killed: ScaleCluster.Worker?
        var killedAt = Date()
        var owned: [Int32] = []
        for k in 0..<chunks {
            try produce(
                Array(scenario.bulk[(k * size)..<min(scenario.bulk.count, (k + 1) * size)]),
                bootstrap: cluster.bootstrap)
            if k == kill.chunk {
                // Killed while it holds work: aggregate tasks, and input partitions it routes.
                let victim = cluster.workers[1]
                owned = cluster.waitUntilOwning(victim, stage: "aggregate", seconds: 60)
                let routes = cluster.waitUntilOwning(victim, stage: "route", seconds: 60)
                try #require(!owned.isEmpty && !routes.isEmpty, "w2 owned no partitions to lose")
                let assignments = victim.logLines().filter { ($0["msg"] as? String) == "partitions assigned" }.count
                switch kill.moment {
                case "rebalance":
                    // A new member makes every member give its partitions back and rejoin.
                    try cluster.start("w2b")
                    Thread.sleep(forTimeInterval: 1 + kill.jitter)
                case "restore":
                    // Killed right after it is handed partitions again, while it restores them.
                    try cluster.start("w2b")
                    let deadline = Date().addingTimeInterval(60)
                    while Date() < deadline,
                        victim.logLines().filter({ ($0["msg"] as? String) == "partitions assigned" }).count
                            <= assignments
                    {
                        Thread.sleep(forTimeInterval: 0.02)
                    }
                default:
                    Thread.sleep(forTimeInterval: kill.jitter)
                }
                _ = Foundation.kill(victim.process.processIdentifier, SIGKILL)
                killedAt = Date()
                killed = victim
                print(
                    "FIGURES killed w2 (\(kill.moment), chunk \(k)) having owned \(owned.count) aggregate and \(routes.count) route partitions"
                )
            }
            if k == kill.chunk + 1, !cluster.workers.contains(where: { $0.name == "w2b" }) { try cluster.start("w2b") }
            if k == 5 { try cluster.start("w4") }
        }
        let victims = killed.map { [$0] } ?? []
        try finish(cluster, generator, scenario, killed: victims, began: began)
        // The later member really took over work.
        let w4 = try #require(cluster.workers.first { $0.name == "w4" })
        let stopped = w4.logLines().last { ($0["msg"] as? String) == "pipeline stopped" }
        let events = Int(stopped?["events"] as? String ?? "") ?? 0
        let assignments = w4.logLines().filter {
            ($0["msg"] as? String) == "partitions assigned" && ($0["stage"] as? String) == "aggregate"
                && !ScaleCluster.partitionNumbers($0["partitions"] as? String ?? "").isEmpty
        }
        #expect(
            !assignments.isEmpty && events > 0, "w4 got no work: \(assignments.count) assignments, \(events) events")
        Self.reportRecovery(cluster, killed: killed, killedAt: killedAt, owned: owned)
    }

    @Test("one worker killed mid-backlog and replaced: every company final present and exact", .timeLimit(.minutes(20)))
    func singleWorkerCrash() throws {
        let (generator, scenario) = Self.backlog()
        let cluster = try ScaleCluster(name: "single")
        try produce(scenario.bulk, bootstrap: cluster.bootstrap)
        let began = Date()
        let only = try cluster.start("w1")
        try #require(!cluster.waitUntilOwning(only, stage: "rollup", seconds: 60).isEmpty)
        // Mid-backlog: once company finals are being published.
        try #require(cluster.waitUntilCompanyPassed(ScenarioGenerator.start + 7 * 86_400_000, seconds: 300))
        kill(only.process.processIdentifier, SIGKILL)
        print("FIGURES killed the only worker after \(String(format: "%.1f", Date().timeIntervalSince(began))) s")
        try cluster.start("w1b")
        try finish(cluster, generator, scenario, killed: [only], began: began)
    }

    static func checkSizes(_ scenario: Scenario) throws {
        let good = scenario.bulk.filter { if case .good = $0.kind { true } else { false } }
        let byTopic = Dictionary(grouping: good, by: \.topic).mapValues(\.count)
        print("FIGURES backlog: \(good.count) events, by topic \(byTopic.sorted { $0.key < $1.key })")
        #expect(good.count >= 500_000)
        #expect((byTopic["crm.deals"] ?? 0) >= 8 * (byTopic["crm.spend"] ?? 0))
    }

    /// Late and closing phases, a clean stop, then every output read back read_committed and
    /// compared with the reference.
    func finish(
        _ cluster: ScaleCluster, _ generator: ScenarioGenerator, _ scenario: Scenario, killed: [ScaleCluster.Worker],
        began: Date
    ) throws {
        func phase(_ name: String) {
            print("FIGURES phase \(name) at \(String(format: "%.1f", Date().timeIntervalSince(began))) s")
        }
        try #require(try cluster.waitUntilCaughtUp(seconds: 900), "the workers did not catch up with the bulk")
        phase("bulk processed")
        // Late events are late for their own partitions; produced once every window passed them.
        try #require(cluster.waitUntilCompanyPassed(generator.lateTime + Self.lateness, seconds: 120))
        try produce(scenario.late, bootstrap: cluster.bootstrap)
        try #require(try cluster.waitUntilCaughtUp(seconds: 120))
        try produce(scenario.closing, bootstrap: cluster.bootstrap)
        let finalWatermark = generator.closingTime - Self.lateness
        #expect(try cluster.waitUntilCaughtUp(seconds: 120), "the workers did not catch up")
        #expect(cluster.waitUntilCompanyPassed(finalWatermark, seconds: 120), "company windows did not close")
        phase("quiet")
        cluster.stopAll(except: killed)

        let t = cluster.config.worker.topics
        let messages = try TopicReader.readAll(
            bootstrap: cluster.bootstrap, topics: [t.summaries, t.alerts, t.dlq], timeout: .seconds(300))
        let byTopic = Dictionary(grouping: messages, by: \.topic)
        phase("read \(messages.count) output messages")
        let model = ReferenceModel(scenario)
        // The mock cluster ignores transaction aborts: what a killed worker wrote in its open
        // transaction stays visible, so identical copies of a final can appear then (README, Limits).
        let report = try OutputCheck.summaries(
            byTopic[t.summaries] ?? [], model: model, windows: ["day", "week", "month"],
            targets: ScaleCluster.targets, markets: [:], finalWatermark: finalWatermark,
            allowDuplicateFinals: !killed.isEmpty)
        print("FIGURES \(report.finals) finals, \(report.repeatedFinals) repeated (identical) copies")
        #expect(report.failures.isEmpty, "\(report.failures)")
        let companyFinals = report.finalsByScopeKind["company"] ?? 0
        #expect(companyFinals > 60, "only \(companyFinals) company finals")
        #expect(report.finals > 10_000)

        let calendar = ReferenceCalendar()
        let expectedAlerts = ReferenceAlerts.expected(
            model: model, targets: ScaleCluster.targets.map(Self.referenceTarget),
            cacScopes: scenario.regions.map { ReferenceModel.Scope(kind: "region", region: $0) } + [
                ReferenceModel.Scope(kind: "company")
            ],
            // Shards judge periods from their earliest event less the lateness on.
            rules: ReferenceAlerts.Rules(), coverageStart: ScenarioGenerator.start - Self.lateness,
            from: calendar.interval("day", containing: ScenarioGenerator.start - Self.lateness).end,
            through: calendar.interval("day", containing: finalWatermark).start)
        var actualAlerts: [String: String] = [:]
        for m in byTopic[t.alerts] ?? [] {
            let json = try #require(try JSONSerialization.jsonObject(with: Data(m.value)) as? [String: Any])
            actualAlerts[json["alert_id"] as! String] = json["severity"] as? String
        }
        #expect(expectedAlerts.keys.contains { $0.hasPrefix("cac.spike:region:") })
        #expect(
            actualAlerts == expectedAlerts,
            "missing \(Set(expectedAlerts.keys).subtracting(actualAlerts.keys).sorted().prefix(5)), unexpected \(Set(actualAlerts.keys).subtracting(expectedAlerts.keys).sorted().prefix(5))"
        )

        // Dead letters: exactly the bad input and the late phase; nothing of the bulk is late.
        let dlq = byTopic[t.dlq] ?? []
        let late = dlq.filter { $0.headers["reason"] == "late" }
        let lateValues = Set(scenario.late.map(\.value))
        #expect(late.allSatisfy { lateValues.contains($0.value) }, "bulk events dead-lettered as late")
        #expect(Set(late.map(\.value)) == lateValues)
        let coordinates = dlq.map {
            "\($0.headers["source.topic"] ?? "")/\($0.headers["source.partition"] ?? "")/\($0.headers["source.offset"] ?? "")"
        }
        let repeated = coordinates.count - Set(coordinates).count
        print(
            "FIGURES dead letters: \(dlq.count), late \(late.count) for \(scenario.late.count) late events, \(repeated) repeated source records"
        )
        var expectedReasons = scenario.bulk.compactMap { if case .bad(let r) = $0.kind { r } else { nil } }
        expectedReasons += Array(repeating: "late", count: scenario.late.count)
        let reasons = dlq.map { $0.headers["reason"] ?? "?" }
        // Every bad record is dead-lettered, with its reason. Not necessarily once: a route
        // partition that changes owner restarts at the group's committed offset, which the mock
        // only stores from a best-effort copy beside the transaction (refused during a
        // rebalance), and aborted copies stay visible there (README, Limits; issue 21).
        #expect(Set(reasons) == Set(expectedReasons))
        for (reason, count) in Dictionary(grouping: expectedReasons, by: { $0 }).mapValues(\.count) {
            #expect(reasons.filter { $0 == reason }.count >= count, "\(reason)")
        }

        // Restored tasks resume at their changelog marker. Whether that is where the group had
        // committed cannot be asserted here: the mock never stores offsets sent to a transaction,
        // and the copy committed beside it is refused while a rebalance is under way (README,
        // Limits). Reported for the notes.
        let restores = cluster.workers.flatMap { w in
            w.logLines().filter { ($0["msg"] as? String) == "tasks restored" }
        }
        let apart = restores.compactMap { Int($0["resumed_apart_from_commit"] as? String ?? "") }.reduce(0, +)
        print("FIGURES \(restores.count) restores, \(apart) partitions resumed apart from their committed offset")

        // The mock silently drops data past 5 MiB per partition: prove nothing was dropped anywhere.
        let all = EmbeddedBroker.layout(cluster.config, partitions: ScaleCluster.inputPartitions).map(\.name)
        for (tp, marks) in try TopicReader.highWatermarks(bootstrap: cluster.bootstrap, topics: all) {
            #expect(marks.low == 0, "log start offset of \(tp) moved to \(marks.low)")
        }
    }

    /// How long the killed worker's partitions took to be restored and to write output again.
    static func reportRecovery(
        _ cluster: ScaleCluster, killed: ScaleCluster.Worker?, killedAt: Date, owned: [Int32]
    ) {
        guard let killed else { return }
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let restores = cluster.workers.filter { $0 !== killed }.flatMap { w in
            w.logLines().filter { ($0["msg"] as? String) == "tasks restored" }
        }
        let recovered = restores.compactMap { line -> Date? in
            guard let ts = (line["ts"] as? String).flatMap(iso.date(from:)), ts > killedAt,
                let parts = line["partitions"] as? String,
                !Set(ScaleCluster.partitionNumbers(parts)).isDisjoint(with: owned)
            else { return nil }
            return ts
        }.min()
        let records = restores.compactMap { Int($0["records"] as? String ?? "") }.reduce(0, +)
        print(
            "FIGURES kill -9: \(owned.count) aggregate partitions restored elsewhere after \(recovered.map { String(format: "%.1f", $0.timeIntervalSince(killedAt)) } ?? "?") s; \(records) changelog records over \(restores.count) restores"
        )
    }

    static func referenceTarget(_ t: TargetsFile.Entry) -> ReferenceAlerts.Target {
        ReferenceAlerts.Target(
            scope: ReferenceModel.Scope(kind: t.scope, region: t.region ?? "", rep: t.rep ?? ""), period: t.period,
            amountMinor: Int64(t.amount)! * 100)
    }
}

/// When the kill test kills: `SALESPULSE_KILL_MOMENT` (start, mid, rebalance, restore; default
/// mid) and `SALESPULSE_KILL_SEED` for up to two seconds of extra delay (scripts/kill-soak.sh).
struct KillPlan {
    var moment: String
    var chunk: Int
    var jitter: Double

    static func fromEnvironment() -> KillPlan {
        let env = ProcessInfo.processInfo.environment
        let moment = env["SALESPULSE_KILL_MOMENT"] ?? "mid"
        let seed = UInt64(env["SALESPULSE_KILL_SEED"] ?? "") ?? 0
        var rng = SplitMix64(seed: seed)
        let jitter = seed == 0 ? 0 : Double(rng.next() % 2_000) / 1000
        print("FIGURES kill plan: moment \(moment), seed \(seed), jitter \(jitter) s")
        return KillPlan(moment: moment, chunk: moment == "start" ? 0 : 2, jitter: jitter)
    }
}
