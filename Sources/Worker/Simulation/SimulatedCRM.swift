import SalesKPI

/// A deterministic CRM for demos: five regions with four reps each, a deal pipeline, customers
/// and marketing spend. It is shaped so alerts have something to say: `north` wins far fewer
/// deals than its target assumes (target.slipping) and `south` triples its spend from
/// `spikeFrom` on (cac.spike). It also sends a few duplicates and bad messages, as real feeds do.
package struct SimulatedCRM: Sendable {
    package static let regions = ["east", "north", "south", "west", "central"]
    package let dayMillis = Timestamp.millisPerDay
    private var rng: SplitMix64
    private var openDeals: [Deal] = []
    private var nextId = 0
    private let spikeFrom: EpochMillis

    private struct Deal: Sendable {
        var id: String
        var region: String
        var rep: String
        var createdAt: EpochMillis
        var closeAt: EpochMillis
        var amount: String
        var currency: String
        var wins: Bool
    }

    /// `firstDay` is the business midnight the feed starts at; deals already open then are made
    /// up silently so wins flow from the first day.
    package init(seed: UInt64, firstDay: EpochMillis, spikeFrom: EpochMillis) {
        rng = SplitMix64(seed: seed)
        self.spikeFrom = spikeFrom
        for back in 1...40 {
            _ = openDealsFor(day: firstDay - EpochMillis(back) * dayMillis, emit: false)
        }
        // Deals that would have closed before the feed starts are history nobody will hear about.
        openDeals.removeAll { $0.closeAt < firstDay }
    }

    private mutating func id(_ prefix: String) -> String {
        nextId += 1
        return "\(prefix)-\(nextId)"
    }

    private mutating func uniform(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    private mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }

    private mutating func openDealsFor(day: EpochMillis, emit: Bool) -> [SimulatedEvent] {
        var out: [SimulatedEvent] = []
        for region in SimulatedCRM.regions {
            for _ in 0..<uniform(5...8) {
                let created = day + EpochMillis(uniform(8 * 3600...20 * 3600)) * 1000
                let cycle = EpochMillis(uniform(7...37)) * dayMillis + EpochMillis(uniform(0...36_000)) * 1000
                let usd = chance(0.1)
                let yuan = uniform(30_000...150_000)
                let cents = uniform(0...99)
                let amount = usd ? format2(Double(yuan) / 7.1) : "\(yuan).\(cents < 10 ? "0" : "")\(cents)"
                let deal = Deal(
                    id: id("deal"), region: region, rep: "\(region)-r\(uniform(1...4))", createdAt: created,
                    closeAt: created + cycle, amount: amount, currency: usd ? "USD" : "CNY",
                    wins: chance(region == "north" ? 0.22 : 0.5))
                openDeals.append(deal)
                if emit { out.append(dealEvent(deal, type: "deal.created", at: created)) }
            }
        }
        return out
    }

    private func format2(_ x: Double) -> String {
        let cents = Int((x * 100).rounded())
        return "\(cents / 100).\(cents % 100 < 10 ? "0" : "")\(cents % 100)"
    }

    private mutating func dealEvent(_ d: Deal, type: String, at t: EpochMillis, extra: String = "") -> SimulatedEvent {
        let json = """
            {"event_id":"\(id("ev"))","type":"\(type)","occurred_at":"\(Timestamp.format(t, offsetSeconds: 28_800))",\
            "region":"\(d.region)","rep_id":"\(d.rep)","deal_id":"\(d.id)","amount":"\(d.amount)","currency":"\(d.currency)",\
            "created_at":"\(Timestamp.format(d.createdAt, offsetSeconds: 28_800))"\(extra)}
            """
        return SimulatedEvent(time: t, topic: .deals, key: d.id, json: json)
    }

    private mutating func customerEvent(
        _ type: String, region: String, rep: String, customer: String, at t: EpochMillis
    )
        -> SimulatedEvent
    {
        let json = """
            {"event_id":"\(id("ev"))","type":"\(type)","occurred_at":"\(Timestamp.format(t))","region":"\(region)",\
            "rep_id":"\(rep)","customer_id":"\(customer)"}
            """
        return SimulatedEvent(time: t, topic: .customers, key: customer, json: json)
    }

    /// Every event of one business day, in time order.
    package mutating func events(forDay day: EpochMillis) -> [SimulatedEvent] {
        var out = openDealsFor(day: day, emit: true)
        let end = day + dayMillis
        var still: [Deal] = []
        for deal in openDeals {
            guard deal.closeAt < end else {
                if deal.createdAt < day, chance(0.08) {
                    let t = day + EpochMillis(uniform(9 * 3600...18 * 3600)) * 1000
                    out.append(dealEvent(deal, type: "deal.stage_changed", at: t, extra: ",\"stage\":\"negotiation\""))
                }
                still.append(deal)
                continue
            }
            let t = max(deal.closeAt, day)
            out.append(dealEvent(deal, type: deal.wins ? "deal.won" : "deal.lost", at: t))
            if deal.wins {
                out.append(
                    customerEvent(
                        "customer.acquired", region: deal.region, rep: deal.rep, customer: "c-\(deal.id)", at: t + 1000)
                )
            }
        }
        openDeals = still
        for region in SimulatedCRM.regions {
            for _ in 0..<uniform(4...7) {
                let t = day + EpochMillis(uniform(0...86_399)) * 1000
                out.append(
                    customerEvent(
                        "customer.acquired", region: region, rep: "\(region)-r\(uniform(1...4))", customer: id("c"),
                        at: t))
            }
            if chance(0.7) {
                let t = day + EpochMillis(uniform(0...86_399)) * 1000
                out.append(
                    customerEvent(
                        "customer.churned", region: region, rep: "\(region)-r\(uniform(1...4))", customer: id("c"),
                        at: t))
            }
            let spike = region == "south" && day >= spikeFrom ? 3 : 1
            for (channel, base) in [("ads", 9000), ("events", 5000), ("sdr", 6000)] {
                let t = day + EpochMillis(uniform(3600...80_000)) * 1000
                let amount = (base + uniform(-800...800)) * spike
                let rep = channel == "sdr" ? ",\"rep_id\":\"\(region)-r\(uniform(1...4))\"" : ""
                let json = """
                    {"event_id":"\(id("ev"))","type":"spend.recorded","occurred_at":"\(Timestamp.format(t))",\
                    "region":"\(region)","channel":"\(channel)","amount":\(amount),"currency":"CNY"\(rep)}
                    """
                out.append(SimulatedEvent(time: t, topic: .spend, key: region, json: json))
            }
        }
        // Real feeds re-send and garble: a few duplicates and bad messages.
        var noisy = out
        for event in out where chance(0.01) { noisy.append(event) }
        if chance(0.3) {
            let t = day + EpochMillis(uniform(0...86_399)) * 1000
            noisy.append(
                SimulatedEvent(
                    time: t, topic: .deals, key: "broken",
                    json:
                        "{\"event_id\":\"\(id("ev"))\",\"type\":\"deal.won\",\"occurred_at\":\"\(Timestamp.format(t))\""
                ))
        }
        if chance(0.2) {
            let t = day + EpochMillis(uniform(0...86_399)) * 1000
            noisy.append(
                SimulatedEvent(
                    time: t, topic: .spend, key: "refund",
                    json:
                        "{\"event_id\":\"\(id("ev"))\",\"type\":\"spend.recorded\",\"occurred_at\":\"\(Timestamp.format(t))\",\"region\":\"east\",\"channel\":\"ads\",\"amount\":-1200,\"currency\":\"CNY\"}"
                ))
        }
        return noisy.sorted { $0.time < $1.time }
    }
}
