import Foundation
import Kafka
import SalesKPI
import TestSupport
import Testing

@testable import Worker

/// Bad producers against a running worker on the mock cluster, at the default settings: each
/// test checks that the bad input reached the worker (its dead letter, by reason) and that the
/// good input around it still counts.
@Suite("Bad producers against a running worker", .serialized)
struct BadProducerPipelineTests {
    static func won(_ n: Int, at: String, region: String = "east", rep: String = "east-r1", yuan: String = "100.00")
        -> String
    {
        #"{"event_id":"bp-\#(n)","type":"deal.won","occurred_at":"\#(at)","region":"\#(region)","rep_id":"\#(rep)","deal_id":"bp-d\#(n)","amount":"\#(yuan)","currency":"CNY","created_at":"2026-02-20T10:00:00+08:00"}"#
    }

    static func send(_ events: [(key: String, json: String)], bootstrap: String) throws {
        let producer = try KafkaProducer(properties: ["bootstrap.servers": bootstrap, "linger.ms": "5"])
        for e in events {
            try producer.send(
                OutgoingMessage(topic: "crm.deals", key: Array(e.key.utf8), value: Array(e.json.utf8)))
        }
        guard producer.flush(timeoutMs: 60_000), producer.takeFailures().isEmpty else {
            throw KafkaError(code: 0, message: "test messages not delivered")
        }
    }

    /// A one-broker mock cluster with the worker's topics, six partitions each.
    static func cluster(for config: ResolvedConfig) throws -> MockCluster {
        let cluster = try MockCluster(brokers: 1)
        try EmbeddedBroker.createTopics(on: cluster, config: config, partitions: 6)
        return cluster
    }

    static func deadLetters(_ bootstrap: String) throws -> [ReadMessage] {
        try TopicReader.readAll(bootstrap: bootstrap, topics: ["kpi.dlq"])
    }

    @Test(
        "a deal dated 2099 between two bursts: future_timestamp, and the burst after it still counts",
        .timeLimit(.minutes(3)))
    func futureYear() throws {
        let config = try TestConfig.make()
        let cluster = try Self.cluster(for: config)
        let bootstrap = cluster.bootstrapServers
        let first = (0..<500).map { (key: "east", json: Self.won($0, at: "2026-03-02T10:00:00+08:00")) }
        let future = (key: "east", json: Self.won(500, at: "2099-03-02T10:00:00+08:00"))
        let second = (501..<1001).map { (key: "east", json: Self.won($0, at: "2026-03-02T11:00:00+08:00")) }
        try Self.send(first + [future] + second, bootstrap: bootstrap)

        let harness = PipelineHarness(config: config, bootstrap: bootstrap)
        harness.start()
        defer { harness.stop() }
        let settled = harness.wait(timeout: .seconds(90)) { $0.consumed == 1001 && $0.isSettled && $0.deadLetters >= 1 }
        try #require(harness.stop(), "pipeline did not stop")
        let stats = harness.pipeline.stats.snapshot
        #expect(settled, "consumed \(stats.consumed), dead letters \(stats.deadLettersByReason)")
        #expect(stats.deadLettersByReason == [.futureTimestamp: 1], "\(stats.deadLettersByReason)")
        #expect(stats.eventsByType[.dealWon] == 1000)
        // Event time stayed in 2026: nothing closed, so no window got a final (the storm was
        // a final for every window from March 2026 to 2099).
        #expect(stats.finalSummariesPublished == 0 && stats.companyWatermark < EventBuilder.t("2027-01-01T00:00:00Z"))
        let dlq = try Self.deadLetters(bootstrap)
        #expect(dlq.count == 1)
        #expect(dlq.first?.headers["reason"] == "future_timestamp")
        #expect(dlq.first.map { String(decoding: $0.value, as: UTF8.self) } == future.json)
    }

    @Test(
        "a year without events: finals only for windows that had activity, every one exact, company customers included",
        .timeLimit(.minutes(3)))
    func yearLongGap() throws {
        let config = try TestConfig.make()
        let cluster = try Self.cluster(for: config)
        let bootstrap = cluster.bootstrapServers
        // East gains customers on 2 March 2025 and is silent on the 3rd, when west wins a deal;
        // the next event comes a year later.
        var events: [Scenario.Event] = []
        for k in 0..<3 {
            events.append(
                Scenario.Event(
                    eventId: "gap-c\(k)", type: "customer.acquired",
                    time: EventBuilder.t("2025-03-02T10:0\(k):00+08:00"),
                    region: "east", rep: "east-r1", amountMinor: 0))
        }
        events.append(
            Scenario.Event(
                eventId: "gap-w1", type: "deal.won", time: EventBuilder.t("2025-03-03T10:00:00+08:00"), region: "west",
                rep: "west-r1", deal: "gap-d1", amountMinor: 10_000,
                createdAt: EventBuilder.t("2025-02-20T10:00:00+08:00")))
        events.append(
            Scenario.Event(
                eventId: "gap-w2", type: "deal.won", time: EventBuilder.t("2026-03-02T10:00:00+08:00"), region: "east",
                rep: "east-r1", deal: "gap-d2", amountMinor: 10_000,
                createdAt: EventBuilder.t("2026-02-20T10:00:00+08:00")))
        func json(_ e: Scenario.Event) -> String {
            let at = Timestamp.format(e.time)
            if e.type == "deal.won" {
                return
                    #"{"event_id":"\#(e.eventId)","type":"deal.won","occurred_at":"\#(at)","region":"\#(e.region)","rep_id":"\#(e.rep!)","deal_id":"\#(e.deal!)","amount":"100.00","currency":"CNY","created_at":"\#(Timestamp.format(e.createdAt!))"}"#
            }
            return
                #"{"event_id":"\#(e.eventId)","type":"customer.acquired","occurred_at":"\#(at)","region":"\#(e.region)","rep_id":"\#(e.rep!)","customer_id":"\#(e.eventId)"}"#
        }
        // One input partition, in this order.
        try Self.send(events.map { (key: "gap", json: json($0)) }, bootstrap: bootstrap)
        var scenario = Scenario()
        scenario.events = events
        let model = ReferenceModel(scenario)

        let harness = PipelineHarness(config: config, bootstrap: bootstrap)
        harness.start()
        defer { harness.stop() }
        let passed = EventBuilder.t("2026-01-01T00:00:00Z")
        let settled = harness.wait(timeout: .seconds(120)) {
            $0.consumed == events.count && $0.isSettled && $0.companyWatermark > passed
        }
        try #require(harness.stop(), "pipeline did not stop")
        let stats = harness.pipeline.stats.snapshot
        #expect(settled, "consumed \(stats.consumed), company watermark \(Timestamp.format(stats.companyWatermark))")
        let report = try OutputCheck.summaries(
            try TopicReader.readAll(bootstrap: bootstrap, topics: ["kpi.summaries"]), model: model,
            windows: TestConfig.windows, targets: TestConfig.targets, markets: TestConfig.marketSizes,
            finalWatermark: stats.companyWatermark, allowDuplicateFinals: false)
        #expect(report.failures.isEmpty, "\(report.failures)")
        // Exactly the windows of 2025 an event fell in: 7 kinds' worth (the 7-day hopping window
        // counts 7) per scope, and none of the year's empty ones.
        var expected = Set<String>()
        for e in model.counted where e.time < passed {
            for scope in ReferenceModel.scopes(of: e) {
                for (kind, start, _) in ReferenceModel.windows(
                    containing: e.time, kinds: TestConfig.windows, calendar: ReferenceCalendar())
                {
                    expected.insert("\(scope)|\(kind)|\(start)")
                }
            }
        }
        #expect(report.finals == expected.count, "\(report.finals) finals, \(expected.count) windows had activity")
        #expect(stats.finalSummariesPublished == expected.count)
    }

    @Test(
        "a record whose output the producer refuses: unprocessable after the rebuilds, and the stage moves on",
        .timeLimit(.minutes(4)))
    func unprocessableRecord() throws {
        // Events up to 1 MiB are accepted, but the producer may send at most 300,000 bytes: a
        // 500 KB event cannot be forwarded, and each rebuilt route stage meets it again.
        // The mock cluster completes a join only session.timeout.ms − 1 s after the previous
        // member left (README, Limits): 6 s instead of 45 s, as in the kill tests, so the five
        // runs of the stage take seconds each, not minutes.
        let config = try TestConfig.make(
            properties: ["message.max.bytes": "300000", "session.timeout.ms": "6000"], maxEventBytes: 1 << 20)
        let cluster = try Self.cluster(for: config)
        let bootstrap = cluster.bootstrapServers
        let good = (0..<200).map { (key: "east", json: Self.won($0, at: "2026-03-02T10:00:00+08:00")) }
        let poison = (
            key: "east",
            json: Self.won(900, at: "2026-03-02T10:00:00+08:00").dropLast() + #","note":""#
                + String(repeating: "x", count: 500_000) + #""}"#
        )
        try Self.send(Array(good[..<100]) + [poison] + Array(good[100...]), bootstrap: bootstrap)
        let harness = PipelineHarness(config: config, bootstrap: bootstrap)
        harness.start()
        defer { harness.stop() }
        let settled = harness.wait(timeout: .seconds(200)) {
            $0.eventsByType[.dealWon] == 200 && $0.isSettled && $0.deadLetters >= 1
        }
        try #require(harness.stop(), "pipeline did not stop")
        let stats = harness.pipeline.stats.snapshot
        #expect(settled, "won \(stats.eventsByType[.dealWon] ?? 0), dead letters \(stats.deadLettersByReason)")
        // The fault reached the worker: the route stage failed to send it, rebuild after rebuild.
        #expect(stats.deliveryFailures >= PoisonHunt.rebuildsBeforeIsolation + 1, "\(stats.deliveryFailures) failures")
        #expect(stats.deadLettersByReason == [.unprocessable: 1], "\(stats.deadLettersByReason)")
        let dlq = try Self.deadLetters(bootstrap)
        try #require(dlq.count == 1)
        let letter = dlq[0]
        #expect(letter.headers["reason"] == "unprocessable")
        #expect(letter.headers["source.topic"] == "crm.deals")
        #expect(letter.headers["original.size"] == "\(poison.json.utf8.count)")
        #expect(letter.headers["detail"]?.contains("size") == true, "\(letter.headers["detail"] ?? "")")
        // Cut to the producer's limit less 64 KiB, from the start of the original.
        #expect(letter.value.count == 234_464 && letter.value.elementsEqual(poison.json.utf8.prefix(234_464)))
        // Every other deal counted, once.
        var latest: [String: Int] = [:]
        for m in try TopicReader.readAll(bootstrap: bootstrap, topics: ["kpi.summaries"]) {
            guard let json = try? JSONSerialization.jsonObject(with: Data(m.value)) as? [String: Any],
                let scope = json["scope"] as? [String: Any], scope["id"] as? String == "east",
                let window = json["window"] as? [String: Any], window["kind"] as? String == "day",
                let won = json["won"] as? Int
            else { continue }
            latest["east/day"] = won
        }
        #expect(latest["east/day"] == 200)
    }

    @Test(
        "deals that would overflow a window's sum are amount_overflow; the window stays exact", .timeLimit(.minutes(3)))
    func overflow() throws {
        let config = try TestConfig.make()
        let cluster = try Self.cluster(for: config)
        let bootstrap = cluster.bootstrapServers
        // 10^12 yuan each, the largest amount accepted: 90 fit a window, the next 10 do not.
        let events = (0..<100).map {
            (key: "east", json: Self.won($0, at: "2026-03-02T10:00:00+08:00", yuan: "1000000000000.00"))
        }
        try Self.send(events, bootstrap: bootstrap)
        var summaries: [String: String] = [:]
        let harness = PipelineHarness(config: config, bootstrap: bootstrap)
        harness.start()
        defer { harness.stop() }
        let settled = harness.wait(timeout: .seconds(90)) { $0.consumed == 100 && $0.isSettled && $0.deadLetters >= 10 }
        try #require(harness.stop(), "pipeline did not stop")
        let stats = harness.pipeline.stats.snapshot
        #expect(settled, "consumed \(stats.consumed), dead letters \(stats.deadLettersByReason)")
        #expect(stats.deadLettersByReason == [.amountOverflow: 10], "\(stats.deadLettersByReason)")
        #expect(stats.eventsByType[.dealWon] == 90)
        // The latest summary of east's day: exactly 90 × 10^12 yuan.
        for m in try TopicReader.readAll(bootstrap: bootstrap, topics: ["kpi.summaries"]) {
            guard let json = try? JSONSerialization.jsonObject(with: Data(m.value)) as? [String: Any],
                let scope = json["scope"] as? [String: Any], scope["id"] as? String == "east",
                let window = json["window"] as? [String: Any], window["kind"] as? String == "day",
                let revenue = json["revenue"] as? String
            else { continue }
            summaries["east/day"] = revenue
        }
        #expect(summaries["east/day"] == "90000000000000.00")
    }

    @Test(
        "a 1.5 MB message between good ones: dead-lettered cut to size with its original size; nothing stalls",
        .timeLimit(.minutes(3)))
    func hugeMessage() throws {
        let config = try TestConfig.make()
        let cluster = try Self.cluster(for: config)
        let bootstrap = cluster.bootstrapServers
        let huge = "{\"event_id\":\"huge\",\"note\":\"" + String(repeating: "x", count: 1_500_000) + "\"}"
        let producer = try KafkaProducer(properties: [
            "bootstrap.servers": bootstrap, "linger.ms": "5", "message.max.bytes": "4000000",
        ])
        let before = (0..<100).map { Self.won($0, at: "2026-03-02T10:00:00+08:00") }
        let after = (100..<200).map { Self.won($0, at: "2026-03-02T11:00:00+08:00") }
        for json in before + [huge] + after {
            try producer.send(
                OutgoingMessage(topic: "crm.deals", partition: 0, key: Array("east".utf8), value: Array(json.utf8)))
        }
        #expect(producer.flush(timeoutMs: 60_000) && producer.takeFailures().isEmpty)

        let harness = PipelineHarness(config: config, bootstrap: bootstrap)
        harness.start()
        defer { harness.stop() }
        let settled = harness.wait(timeout: .seconds(90)) { $0.consumed == 201 && $0.isSettled && $0.deadLetters == 1 }
        try #require(harness.stop(), "pipeline did not stop")
        let stats = harness.pipeline.stats.snapshot
        #expect(settled, "consumed \(stats.consumed), dead letters \(stats.deadLettersByReason)")
        #expect(stats.deadLettersByReason == [.tooLarge: 1] && stats.eventsByType[.dealWon] == 200)
        #expect(stats.deliveryFailures == 0)
        let dlq = try Self.deadLetters(bootstrap)
        #expect(dlq.count == 1)
        #expect(dlq.first?.headers["original.size"] == String(huge.utf8.count))
        #expect(dlq.first?.value == Array(huge.utf8.prefix(512 * 1024)))
    }

    @Test(
        "20,000 invented region names: each task keeps max_regions, the rest are scope_limit", .timeLimit(.minutes(5)))
    func inventedRegions() throws {
        let config = try TestConfig.make()
        #expect(config.settings.maxRegions == 1_000, "the default")
        let cluster = try Self.cluster(for: config)
        let bootstrap = cluster.bootstrapServers
        let events = (0..<20_000).map { n -> (key: String, json: String) in
            let region = "region-\(n)-" + String(repeating: "x", count: 100)
            return (region, Self.won(n, at: "2026-03-02T10:00:00+08:00", region: region, rep: "r1"))
        }
        // Tasks are internal partitions: each receives about 3,300 of the names and keeps 1,000.
        let perTask = Dictionary(grouping: events) {
            RoutedBatch.partition(ofRegion: $0.key, partitions: config.worker.topics.internalPartitions)
        }
        #expect(perTask.count == 6 && perTask.values.allSatisfy { $0.count > 1_000 })
        try Self.send(events, bootstrap: bootstrap)
        let harness = PipelineHarness(config: config, bootstrap: bootstrap)
        harness.start()
        defer { harness.stop() }
        let settled = harness.wait(timeout: .seconds(180)) { $0.consumed == 20_000 && $0.isSettled }
        try #require(harness.stop(), "pipeline did not stop")
        let stats = harness.pipeline.stats.snapshot
        #expect(settled, "consumed \(stats.consumed), dead letters \(stats.deadLettersByReason)")
        #expect(stats.eventsByType[.dealWon] == 6_000)
        #expect(stats.deadLettersByReason == [.scopeLimit: 14_000], "\(stats.deadLettersByReason)")
        #expect(stats.deliveryFailures == 0, "every record produced fits")
        let dlq = try Self.deadLetters(bootstrap)
        #expect(dlq.count == 14_000 && dlq.allSatisfy { $0.headers["reason"] == "scope_limit" })
    }
}
