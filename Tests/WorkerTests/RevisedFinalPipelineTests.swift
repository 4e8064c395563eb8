import Foundation
import Kafka
import TestSupport
import Testing
import Worker

/// Corrected deals arriving hours to days after their first win, on the mock cluster, at the
/// default settings (docs/guarantees.md, revised finals).
@Suite("Revised finals end to end", .serialized)
struct RevisedFinalPipelineTests {
    @Test(
        "the latest final of every (scope, window) equals the reference in which a corrected deal counts once",
        .timeLimit(.minutes(5)))
    func latestFinalsExact() throws {
        let config = try TestConfig.make()
        #expect(config.settings.revisionHorizonMillis > 92 * 86_400_000, "the default horizon covers a quarter")
        let cluster = try MockCluster(brokers: 3)
        try EmbeddedBroker.createTopics(on: cluster, config: config, partitions: 6)
        let bootstrap = cluster.bootstrapServers
        var rng = seededGenerator(2026)
        // Seven regions that hash to all six internal partitions: no shard waits for its
        // sources to turn idle before its first watermark.
        var generator = ScenarioGenerator(
            seed: rng.next(), days: 60, regions: ["east", "west", "north", "south", "central", "macau", "chengdu"],
            density: 2)
        // Corrections of a fifth of the wins, 2 hours to 3 days later (every window of the
        // first win but the week, month and quarter is final by then), a fifth of them for
        // another rep.
        generator.correctionChance = 0.2
        generator.correctionDelay = 7_200...(3 * 86_400)
        generator.reassignChance = 0.2
        var scenario = generator.generate()
        // Every input partition gets a share of every stretch of time, so none turns idle and
        // each slice below moves event time on all of them.
        var next: [String: Int32] = [:]
        for k in scenario.bulk.indices {
            scenario.bulk[k].partition = next[scenario.bulk[k].topic, default: 0]
            next[scenario.bulk[k].topic] = (next[scenario.bulk[k].topic, default: 0] + 1) % 6
        }
        let corrections = Self.correctionsAfterClose(scenario)
        try #require(corrections > 50, "the scenario has \(corrections) corrections after a final")
        let harness = PipelineHarness(config: config, bootstrap: bootstrap)
        harness.start()
        defer { harness.stop() }
        // Delivered in ten slices as a live feed would be, each processed before the next
        // arrives: a backlog read at once holds every window open until the slowest partition
        // has passed it, and corrections read with the backlog find their windows still open.
        var sent = 0
        var newest: [String: Int64] = [:]
        let slices = 10
        for k in 0..<slices {
            let slice = scenario.bulk[(k * scenario.bulk.count / slices)..<((k + 1) * scenario.bulk.count / slices)]
            try produce(Array(slice), bootstrap: bootstrap)
            sent += slice.count
            // Event time reaches what every partition has delivered, less the allowed lateness.
            for m in slice {
                guard case .good(let i) = m.kind else { continue }
                let source = "\(m.topic)/\(m.partition!)"
                newest[source] = max(newest[source] ?? .min, scenario.events[i].time)
            }
            let expected = sent
            let reached = newest.values.min()! - 3_600_000
            let settled = harness.wait(timeout: .seconds(60)) {
                $0.consumed == expected && $0.isSettled && $0.companyWatermark >= reached
            }
            let at = harness.pipeline.stats.snapshot
            try #require(
                settled,
                "slice \(k) not processed: consumed \(at.consumed) of \(expected), company watermark \(at.companyWatermark), wanted \(reached)"
            )
        }
        try produce(scenario.closing, bootstrap: bootstrap)
        let total = sent + scenario.closing.count
        let finalWatermark = ScenarioGenerator.closingTime - 3_600_000
        try #require(
            harness.wait(timeout: .seconds(60)) {
                $0.consumed == total && $0.isSettled && $0.companyWatermark >= finalWatermark
            }, "closing events not processed")
        try #require(harness.stop(), "pipeline did not stop")
        #expect(harness.error == nil)
        let stats = harness.pipeline.stats.snapshot

        let summaries = try TopicReader.readAll(bootstrap: bootstrap, topics: ["kpi.summaries"])
        let report = try OutputCheck.summaries(
            summaries, model: ReferenceModel(scenario), windows: TestConfig.windows, targets: TestConfig.targets,
            markets: TestConfig.marketSizes, finalWatermark: finalWatermark, allowDuplicateFinals: false)
        #expect(report.failures.isEmpty, "\(report.failures)")
        // The corrections reached finals of every scope kind, the company's too.
        for kind in ["rep", "region", "company"] {
            #expect(report.revisedWindows.contains { $0.hasPrefix(kind + "|") }, "no \(kind) final was revised")
        }
        #expect(stats.revisedFinalsPublished == report.revisions)
        print(
            "\(corrections) corrections after a final; \(report.revisions) revised finals of \(report.finals) windows")

        // What a dashboard keeping the latest final per window sums: days add up to months.
        var latest: [String: [String: Any]] = [:]
        for m in summaries {
            guard let json = try JSONSerialization.jsonObject(with: Data(m.value)) as? [String: Any],
                json["final"] as? Bool == true
            else { continue }
            let scope = json["scope"] as! [String: Any]
            let window = json["window"] as! [String: Any]
            latest["\(scope["id"]!)|\(window["kind"]!)|\(window["start"]!)"] = json
        }
        var daySums: [String: Int64] = [:]
        var months: [String: Int64] = [:]
        let calendar = ReferenceCalendar()
        for json in latest.values {
            let scope = (json["scope"] as! [String: Any])["id"] as! String
            let window = json["window"] as! [String: Any]
            let start = ReferenceCalendar.parse(window["start"] as! String)
            let month = "\(scope)|\(calendar.interval("month", containing: start).start)"
            let revenue = ((json["parts"] as! [String: Any])["revenue_minor"] as! NSNumber).int64Value
            switch window["kind"] as! String {
            case "day": daySums[month, default: 0] += revenue
            case "month": months[month] = revenue
            default: continue
            }
        }
        #expect(months.count > 20)
        for (month, revenue) in months {
            #expect(
                daySums[month, default: 0] == revenue,
                "days of \(month) sum to \(daySums[month, default: 0]), the month is \(revenue)")
        }
    }

    /// Corrections whose first win's day had closed when they happened (the day ended more
    /// than the allowed lateness before).
    static func correctionsAfterClose(_ scenario: Scenario) -> Int {
        var first: [String: Int64] = [:]
        var n = 0
        let calendar = ReferenceCalendar()
        for e in scenario.events.sorted(by: { $0.time < $1.time }) where e.type == "deal.won" {
            let key = e.region + "|" + (e.deal ?? "")
            if let t = first[key] {
                if e.time - 3_600_000 >= calendar.interval("day", containing: t).end { n += 1 }
            } else {
                first[key] = e.time
            }
        }
        return n
    }
}
