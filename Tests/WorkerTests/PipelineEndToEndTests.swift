import Foundation
import Kafka
import TestSupport
import Testing
import Worker

@Suite("Pipeline end to end on the mock cluster", .serialized)
struct PipelineEndToEndTests {
    static let inputs = ["crm.deals", "crm.customers", "crm.spend"]
    static let outputs = ["kpi.summaries", "kpi.alerts", "kpi.dlq"]

    @Test(
        "summaries equal the reference, bad input is dead-lettered with its reason, alerts match the rules",
        .timeLimit(.minutes(5)))
    func endToEnd() throws {
        let config = try TestConfig.make()
        let cluster = try MockCluster(brokers: 3)
        try EmbeddedBroker.createTopics(on: cluster, config: config, partitions: 6)
        let bootstrap = cluster.bootstrapServers
        var generator = ScenarioGenerator()
        let scenario = generator.generate()

        try produce(scenario.bulk, bootstrap: bootstrap)
        let harness = PipelineHarness(config: config, bootstrap: bootstrap)
        harness.start()
        defer { harness.stop() }
        let bulk = scenario.bulk.count
        try #require(
            harness.wait(timeout: .seconds(120)) { $0.consumed == bulk && $0.isSettled }, "bulk not consumed")
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
        try #require(harness.stop(), "pipeline did not stop")
        #expect(harness.error == nil)
        let stats = harness.pipeline.stats.snapshot

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

    private func checkDeadLetters(_ scenario: Scenario, _ byTopic: [String: [ReadMessage]], _ stats: PipelineStats)
        throws
    {
        let dlq = byTopic["kpi.dlq"] ?? []
        var expected: [String] = scenario.bulk.compactMap { if case .bad(let r) = $0.kind { r } else { nil } }
        expected += Array(repeating: "late", count: scenario.late.count)
        #expect(dlq.map { $0.headers["reason"] ?? "?" }.sorted() == expected.sorted())
        var inputs: [String: [UInt8]] = [:]
        for topic in Self.inputs {
            for m in byTopic[topic] ?? [] { inputs["\(m.topic)/\(m.partition)/\(m.offset)"] = m.value }
        }
        for m in dlq {
            let source =
                "\(m.headers["source.topic"] ?? "")/\(m.headers["source.partition"] ?? "")/\(m.headers["source.offset"] ?? "")"
            #expect(inputs[source] == m.value, "dead letter \(m.headers) does not carry the bytes at \(source)")
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
        let calendar = ReferenceCalendar()
        var finals: [String: [String: Any]] = [:]
        var duplicateFinals = 0
        for m in messages {
            let json = try #require(try JSONSerialization.jsonObject(with: Data(m.value)) as? [String: Any])
            guard json["final"] as? Bool == true else { continue }
            let scope = json["scope"] as! [String: Any]
            let window = json["window"] as! [String: Any]
            let key =
                "\(scope["kind"]!)|\(scope["id"]!)|\(window["kind"]!)|\(ReferenceCalendar.parse(window["start"] as! String))"
            #expect(m.key.map { String(decoding: $0, as: UTF8.self) } == scope["id"] as? String)
            if finals[key] != nil { duplicateFinals += 1 }
            finals[key] = json
        }
        #expect(duplicateFinals == 0, "windows with more than one final summary")
        #expect(finals.count > 1000)
        var mismatches: [String] = []
        for (key, json) in finals.sorted(by: { $0.key < $1.key }) {
            let s = json["scope"] as! [String: Any]
            let scope = ReferenceModel.Scope(
                kind: s["kind"] as! String, region: s["region"] as? String ?? "", rep: s["rep"] as? String ?? "")
            let w = json["window"] as! [String: Any]
            let kind = w["kind"] as! String
            let start = ReferenceCalendar.parse(w["start"] as! String)
            let end = ReferenceCalendar.parse(w["end"] as! String)
            if kind == "7d/1d" {
                #expect(start % ReferenceCalendar.day == 0 && end - start == 7 * ReferenceCalendar.day, "\(key)")
            } else {
                let i = calendar.interval(kind, containing: start)
                #expect(i.start == start && i.end == end, "\(key) has boundaries \(w)")
            }
            let diffs = compare(json, model.aggregate(scope, start: start, end: end), scope: scope, kind: kind)
            if !diffs.isEmpty { mismatches.append("\(key): \(diffs.joined(separator: "; "))") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) summaries differ, first: \(mismatches.prefix(5))")
        // Every scope and window that had counted activity has its final summary.
        var missing = Set<String>()
        for e in model.counted {
            for scope in ReferenceModel.scopes(of: e)
            where !(scope.kind == "rep" && e.type == "spend.recorded" && e.rep == nil) {
                for (kind, start, end) in ReferenceModel.windows(
                    containing: e.time, kinds: TestConfig.windows, calendar: calendar)
                where end <= finalWatermark {
                    let key = "\(scope.kind)|\(scope.id)|\(kind)|\(start)"
                    if finals[key] == nil { missing.insert(key) }
                }
            }
        }
        #expect(missing.isEmpty, "\(missing.count) windows without a final summary, e.g. \(missing.sorted().prefix(5))")
    }

    private func compare(_ j: [String: Any], _ r: ReferenceModel.Aggregate, scope: ReferenceModel.Scope, kind: String)
        -> [String]
    {
        var diffs: [String] = []
        func check<T: Equatable>(_ name: String, _ actual: T?, _ expected: T?) {
            if actual != expected {
                diffs.append("\(name) \(String(describing: actual)) != \(String(describing: expected))")
            }
        }
        func close(_ name: String, _ actual: Double?, _ expected: Double?, relative: Double = 1e-9) {
            switch (actual, expected) {
            case (nil, nil): return
            case (let a?, let e?) where abs(a - e) <= relative * max(abs(e), 1e-9): return
            default: diffs.append("\(name) \(String(describing: actual)) != \(String(describing: expected))")
            }
        }
        let parts = j["parts"] as! [String: Any]
        check("revenue_minor", (parts["revenue_minor"] as? NSNumber)?.int64Value, r.revenue)
        check("won", j["won"] as? Int, r.won)
        check("lost", j["lost"] as? Int, r.lost)
        check("cycle_ms_sum", (parts["cycle_ms_sum"] as? NSNumber)?.int64Value, r.cycleMillisSum)
        check("new_customers", j["new_customers"] as? Int, r.newCustomers)
        check("churned_customers", j["churned_customers"] as? Int, r.churned)
        check("active_customers_start", j["active_customers_start"] as? Int, r.activeStart)
        check("spend_minor", (parts["spend_minor"] as? NSNumber)?.int64Value, r.spend)
        check("revenue", j["revenue"] as? String, ReferenceModel.money(r.revenue))
        check("spend", j["spend"] as? String, ReferenceModel.money(r.spend))
        check("avg_deal_size", j["avg_deal_size"] as? String, ReferenceModel.moneyRatio(r.revenue, r.won))
        check("cac", j["cac"] as? String, ReferenceModel.moneyRatio(r.spend, r.newCustomers))
        close("win_rate", j["win_rate"] as? Double, r.won + r.lost == 0 ? nil : Double(r.won) / Double(r.won + r.lost))
        close(
            "retention_rate", j["retention_rate"] as? Double,
            r.activeStart <= 0 ? nil : Double(r.activeStart - r.churned) / Double(r.activeStart))
        let cycle = j["cycle_days"] as! [String: Any]
        close(
            "cycle mean", cycle["mean"] as? Double,
            r.won == 0 ? nil : Double(r.cycleMillisSum) / Double(r.won) / 86_400_000)
        close("cycle p50", cycle["p50"] as? Double, ReferenceModel.quantile(r.cycleDays, 0.5), relative: 0.01)
        close("cycle p90", cycle["p90"] as? Double, ReferenceModel.quantile(r.cycleDays, 0.9), relative: 0.01)
        let target = TestConfig.targets.first {
            $0.scope == scope.kind && ($0.region ?? "") == scope.region && ($0.rep ?? "") == scope.rep
                && $0.period == kind
        }
        let targetMinor = target.map { Int64($0.amount)! * 100 }
        check("target", j["target"] as? String, targetMinor.map(ReferenceModel.money))
        close(
            "attainment", j["attainment"] as? Double, targetMinor.map { (Double(r.revenue) / 100) / (Double($0) / 100) }
        )
        let market = TestConfig.marketSizes["\(scope.kind):\(scope.kind == "company" ? "" : scope.region):\(kind)"]
        close(
            "market_share", j["market_share"] as? Double,
            scope.kind == "rep" ? nil : market.map { (Double(r.revenue) / 100) / (Double($0) / 100) })
        check("pace", j["pace"] as? Double, 1.0)
        return diffs
    }

    private func checkAlerts(_ messages: [ReadMessage], _ model: ReferenceModel, finalWatermark: Int64) throws {
        var actual: [String: String] = [:]
        for m in messages {
            let json = try #require(try JSONSerialization.jsonObject(with: Data(m.value)) as? [String: Any])
            let id = json["alert_id"] as! String
            #expect(actual[id] == nil, "alert \(id) published twice")
            actual[id] = json["severity"] as? String
            #expect(!(json["message"] as? String ?? "").isEmpty)
        }
        let calendar = ReferenceCalendar()
        let first = calendar.interval("day", containing: ScenarioGenerator.start).start
        let last = calendar.interval("day", containing: finalWatermark).start
        let cacScopes =
            ["east", "west", "north", "south"].map { ReferenceModel.Scope(kind: "region", region: $0) }
            + [ReferenceModel.Scope(kind: "company")]
        let expected = ReferenceAlerts.expected(
            model: model, targets: TestConfig.referenceTargets, cacScopes: cacScopes, rules: ReferenceAlerts.Rules(),
            coverageStart: ScenarioGenerator.start - 3_600_000, from: first, through: last)
        #expect(
            expected.keys.contains { $0.hasPrefix("cac.spike:region:south") },
            "the scenario should make south's CAC spike")
        #expect(
            expected.keys.contains { $0.hasPrefix("target.slipping:region:north") },
            "the scenario should make north slip")
        #expect(
            actual == expected,
            "alerts differ: missing \(Set(expected.keys).subtracting(actual.keys).sorted()), unexpected \(Set(actual.keys).subtracting(expected.keys).sorted())"
        )
    }
}
