import Foundation

/// Builds a `Scenario`: four regions with three reps each over about 100 business days from
/// 2026-01-01 (crossing month and quarter ends), with duplicates, re-sent wins, out-of-order
/// delivery within ±10 minutes, foreign currency, bad messages of every kind, late events, and
/// a spend spike in `south` for the CAC rule.
package struct ScenarioGenerator {
    package var topics = (deals: "crm.deals", customers: "crm.customers", spend: "crm.spend")
    package var days = 100
    package var seed: UInt64 = 7
    package static let start = ReferenceCalendar.parse("2026-01-01T00:05:00+08:00")
    package static let closingTime = ReferenceCalendar.parse("2026-06-01T12:00:00+08:00")
    /// When the time-only closing events happen (pushes every window before it closed).
    package var closingTime = ScenarioGenerator.closingTime
    /// When the phase 2 late events happen.
    package var lateTime = ReferenceCalendar.parse("2026-03-01T12:00:00+08:00")
    package static let maxEventBytes = 65_536

    private var rng: Rng
    private var scenario = Scenario()
    private var counter = 0
    /// (sort key, message) before ordering.
    private var pending: [(Int64, Scenario.Message)] = []

    /// Regions of the scenario; regions whose index is 3 mod 10 (`south` by default) quadruple
    /// their spend in the week of 2026-02-23.
    package var regions = ["east", "west", "north", "south"]
    /// How many times the per-region daily activity repeats.
    package var density = 1
    /// How many times the deal activity of a region's day repeats (customers and spend do not).
    package var dealWeight = 1
    /// Partitions of each input topic: the closing phase writes into every one.
    package var inputPartitions = 6
    /// The share of won deals re-sent later with a new amount (a correction), and how many
    /// seconds later: by default within the allowed lateness, so every window it touches is
    /// still open; hours to days later it reaches finals (docs/guarantees.md, revised finals).
    package var correctionChance = 0.12
    package var correctionDelay = 600...2000
    /// Corrections go to another rep of the region (a reassigned deal) this often.
    package var reassignChance = 0.0

    package init(seed: UInt64 = 7, days: Int = 100, regions: [String]? = nil, density: Int = 1) {
        // Printed with every test that generates one, so a failure names what it ran on.
        print("scenario seed \(seed), \(days) days")
        self.seed = seed
        self.days = days
        if let regions { self.regions = regions }
        self.density = density
        rng = Rng(seed)
    }

    struct Rng {
        var state: UInt64
        init(_ seed: UInt64) { state = seed &+ 0x1234_5678 }
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            var z = state
            z = (z ^ (z >> 33)) &* 0xff51afd7ed558ccd
            return z ^ (z >> 29)
        }
        mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(next() % UInt64(r.count)) }
        mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) / 1_000_000 < p }
    }

    private mutating func id(_ p: String) -> String {
        counter += 1
        return "\(p)-\(counter)"
    }

    private let formatters = [
        ReferenceCalendar.formatter(offsetHours: 8, fraction: false),
        ReferenceCalendar.formatter(offsetHours: 0, fraction: true),
        ReferenceCalendar.formatter(offsetHours: -5, fraction: false),
    ]

    /// Varies the offset and precision of timestamps, as different CRM exporters would.
    private mutating func stamp(_ t: Int64) -> String {
        formatters[rng.int(0...2)].string(from: Date(timeIntervalSince1970: Double(t) / 1000))
    }

    private mutating func add(_ e: Scenario.Event, topic: String, key: String, json: String, jitter: Bool = true) {
        scenario.events.append(e)
        let index = scenario.events.count - 1
        let sortKey = e.time + (jitter ? Int64(rng.int(-600...600)) * 1000 : 0)
        pending.append(
            (sortKey, Scenario.Message(topic: topic, key: Array(key.utf8), value: Array(json.utf8), kind: .good(index)))
        )
        if rng.chance(0.03) {
            let resend = sortKey + Int64(rng.int(1...300)) * 1000
            pending.append(
                (
                    resend,
                    Scenario.Message(
                        topic: topic, key: Array(key.utf8), value: Array(json.utf8), kind: .duplicate(index))
                ))
        }
    }

    /// An amount as it appears in the event and its exact value in fen.
    private mutating func amount() -> (json: String, currency: String, fen: Int64) {
        if rng.chance(0.15) {
            // USD in whole dimes, so ×7.10 is exact in fen.
            let dimes = rng.int(100...20_000)
            return ("\"\(dimes / 10).\(dimes % 10)\"", "USD", Int64(dimes) * 71)
        }
        let fen = Int64(rng.int(100_000...5_000_000))
        let text = "\(fen / 100).\(fen % 100 < 10 ? "0" : "")\(fen % 100)"
        return (rng.chance(0.5) ? "\"\(text)\"" : text, "CNY", fen)
    }

    private mutating func deal(
        _ type: String, region: String, rep: String, deal: String, at t: Int64, createdAt: Int64,
        extra: String = ""
    ) {
        let a = amount()
        let e = Scenario.Event(
            eventId: id("ev"), type: type, time: t, region: region, rep: rep, deal: deal,
            amountMinor: a.fen, createdAt: createdAt)
        let json = """
            {"event_id":"\(e.eventId)","type":"\(type)","occurred_at":"\(stamp(t))","region":"\(region)","rep_id":"\(rep)",\
            "deal_id":"\(deal)","amount":\(a.json),"currency":"\(a.currency)","created_at":"\(stamp(createdAt))"\(extra)}
            """
        add(e, topic: topics.deals, key: deal, json: json)
    }

    private mutating func customer(_ type: String, region: String, rep: String, at t: Int64) {
        let c = id("cust")
        let e = Scenario.Event(eventId: id("ev"), type: type, time: t, region: region, rep: rep, amountMinor: 0)
        let json = """
            {"event_id":"\(e.eventId)","type":"\(type)","occurred_at":"\(stamp(t))","region":"\(region)","rep_id":"\(rep)",\
            "customer_id":"\(c)","source":{"campaign":"spring","tags":["a","b"]}}
            """
        add(e, topic: topics.customers, key: c, json: json)
    }

    private mutating func spend(region: String, rep: String?, fen: Int64, at t: Int64) {
        let e = Scenario.Event(
            eventId: id("ev"), type: "spend.recorded", time: t, region: region, rep: rep, amountMinor: fen)
        let repField = rep.map { ",\"rep_id\":\"\($0)\"" } ?? ""
        let json = """
            {"event_id":"\(e.eventId)","type":"spend.recorded","occurred_at":"\(stamp(t))","region":"\(region)",\
            "channel":"ads","amount":"\(fen / 100).\(fen % 100 < 10 ? "0" : "")\(fen % 100)","currency":"CNY"\(repField)}
            """
        add(e, topic: topics.spend, key: region, json: json)
    }

    private mutating func bad(_ reason: String, _ topic: String, _ bytes: [UInt8], at t: Int64) {
        pending.append((t, Scenario.Message(topic: topic, key: nil, value: bytes, kind: .bad(reason: reason))))
    }

    private mutating func badMessages(at t: Int64) {
        let ts = ReferenceCalendar.format(t)
        let common = "\"event_id\":\"\(id("bad"))\",\"region\":\"east\",\"channel\":\"ads\""
        bad("empty_payload", topics.spend, [], at: t)
        bad("malformed_json", topics.deals, Array("{\"event_id\":\"x\",\"type\":\"deal.won\"".utf8), at: t)
        var utf8 = Array(
            "{\(common),\"type\":\"spend.recorded\",\"occurred_at\":\"\(ts)\",\"amount\":1,\"currency\":\"CNY\",\"note\":\"ab\"}"
                .utf8)
        utf8.insert(0xFF, at: utf8.count - 3)
        bad("invalid_utf8", topics.spend, utf8, at: t)
        bad(
            "missing_field", topics.spend,
            Array(
                "{\"event_id\":\"\(id("bad"))\",\"type\":\"spend.recorded\",\"occurred_at\":\"\(ts)\",\"channel\":\"ads\",\"amount\":1,\"currency\":\"CNY\"}"
                    .utf8), at: t)
        bad(
            "invalid_field", topics.customers,
            Array(
                "{\"event_id\":12,\"type\":\"customer.acquired\",\"occurred_at\":\"\(ts)\",\"region\":\"east\"}".utf8),
            at: t)
        bad(
            "invalid_amount", topics.spend,
            Array(
                "{\(common),\"type\":\"spend.recorded\",\"occurred_at\":\"\(ts)\",\"amount\":\"12,50\",\"currency\":\"CNY\"}"
                    .utf8), at: t)
        bad(
            "negative_amount", topics.spend,
            Array(
                "{\(common),\"type\":\"spend.recorded\",\"occurred_at\":\"\(ts)\",\"amount\":-5,\"currency\":\"CNY\"}"
                    .utf8), at: t)
        bad(
            "unknown_currency", topics.spend,
            Array(
                "{\(common),\"type\":\"spend.recorded\",\"occurred_at\":\"\(ts)\",\"amount\":5,\"currency\":\"XYZ\"}"
                    .utf8), at: t)
        bad(
            "invalid_timestamp", topics.spend,
            Array(
                "{\(common),\"type\":\"spend.recorded\",\"occurred_at\":\"yesterday\",\"amount\":5,\"currency\":\"CNY\"}"
                    .utf8), at: t)
        bad(
            "absurd_timestamp", topics.spend,
            Array(
                "{\(common),\"type\":\"spend.recorded\",\"occurred_at\":\"1970-01-01T00:00:00Z\",\"amount\":5,\"currency\":\"CNY\"}"
                    .utf8), at: t)
        bad(
            "created_after_occurred", topics.deals,
            Array(
                "{\"event_id\":\"\(id("bad"))\",\"type\":\"deal.won\",\"occurred_at\":\"\(ts)\",\"region\":\"east\",\"rep_id\":\"east-r1\",\"deal_id\":\"dx\",\"amount\":5,\"currency\":\"CNY\",\"created_at\":\"2027-01-01T00:00:00Z\"}"
                    .utf8), at: t)
        let padding = String(repeating: "x", count: Self.maxEventBytes)
        bad(
            "too_large", topics.spend,
            Array(
                "{\(common),\"type\":\"spend.recorded\",\"occurred_at\":\"\(ts)\",\"amount\":5,\"currency\":\"CNY\",\"pad\":\"\(padding)\"}"
                    .utf8), at: t)
        pending.append(
            (
                t,
                Scenario.Message(
                    topic: topics.deals, key: Array("u".utf8),
                    value: Array(
                        "{\"event_id\":\"\(id("u"))\",\"type\":\"deal.reopened\",\"occurred_at\":\"\(ts)\",\"region\":\"east\"}"
                            .utf8),
                    kind: .unknownType)
            ))
    }

    package mutating func generate() -> Scenario {
        let regions = self.regions
        scenario.regions = regions
        let day = ReferenceCalendar.day
        // Every region and the targeted rep show up in the first minutes, so target tracking
        // starts with the first business day.
        for (k, region) in regions.enumerated() {
            spend(region: region, rep: "\(region)-r1", fen: 10_000, at: Self.start + Int64(k) * 1000)
        }
        for d in 0..<days {
            let dayStart = Self.start - 5 * 60_000 + Int64(d) * day
            func at() -> Int64 { dayStart + Int64(rng.int(0...86_399)) * 1000 }
            for (index, region) in regions.enumerated() {
                for _ in 0..<density {
                    func rep() -> String { "\(region)-r\(rng.int(1...3))" }
                    // Deals outnumber customers and spend `dealWeight` times over.
                    for _ in 0..<dealWeight {
                        for _ in 0..<rng.int(1...2) {
                            let t = at()
                            deal("deal.created", region: region, rep: rep(), deal: id("deal"), at: t, createdAt: t)
                        }
                        if rng.chance(region == "north" ? 0.35 : 0.75) {
                            let t = at()
                            let created = rng.chance(0.1) ? t : t - Int64(rng.int(3600...40 * 86_400)) * 1000
                            let dealId = id("deal")
                            let r = rep()
                            deal("deal.won", region: region, rep: r, deal: dealId, at: t, createdAt: created)
                            if rng.chance(correctionChance) {
                                // Re-sent win with a new id, later time and new amount: it replaces the first.
                                deal(
                                    "deal.won", region: region, rep: rng.chance(reassignChance) ? rep() : r,
                                    deal: dealId, at: t + Int64(rng.int(correctionDelay)) * 1000,
                                    createdAt: created)
                            }
                        }
                        if rng.chance(0.45) {
                            let t = at()
                            deal(
                                "deal.lost", region: region, rep: rep(), deal: id("deal"), at: t,
                                createdAt: t - 86_400_000)
                        }
                    }
                    for _ in 0..<rng.int(1...2) { customer("customer.acquired", region: region, rep: rep(), at: at()) }
                    if rng.chance(0.3) { customer("customer.churned", region: region, rep: rep(), at: at()) }
                    // Some regions quadruple their spend in the week of 2026-02-23.
                    let spike = index % 10 == 3 && d >= 53 && d < 60 ? 4 : 1
                    spend(
                        region: region, rep: rng.chance(0.5) ? rep() : nil,
                        fen: Int64(rng.int(50_000...90_000) * spike),
                        at: at())
                }
            }
            if d % 25 == 5 { badMessages(at: at()) }
        }
        // Phase 1 in delivery order (jittered event time), duplicates included.
        scenario.bulk = pending.sorted { $0.0 < $1.0 }.map(\.1)
        pending.removeAll()
        // Phase 2: late events, weeks behind the watermark.
        for region in regions {
            spend(region: region, rep: nil, fen: 12_345, at: lateTime)
        }
        scenario.late = pending.map(\.1)
        pending.removeAll()
        // Phase 3: time-only events that close every window.
        for region in regions {
            deal(
                "deal.created", region: region, rep: "\(region)-r1", deal: id("deal"), at: closingTime,
                createdAt: closingTime)
        }
        for (k, topic) in [topics.deals, topics.customers, topics.spend].enumerated() {
            for p in 0..<inputPartitions {
                let region = regions[(p + k) % regions.count]
                let first = pending.count
                deal(
                    "deal.created", region: region, rep: "\(region)-r1", deal: id("deal"), at: closingTime,
                    createdAt: closingTime)
                // The message and any re-sent copy of it.
                for n in first..<pending.count {
                    pending[n].1.topic = topic
                    pending[n].1.partition = Int32(p)
                }
            }
        }
        scenario.closing = pending.map(\.1)
        return scenario
    }
}
