import SalesKPI
import Worker

/// The benchmark's CRM data: deal, customer and spend events for `regions` × `repsPerRegion`
/// reps, spread evenly over `days` business days from a Monday, with a few minutes of disorder.
/// Deterministic for a seed, so the decoder and pipeline modes see the same payloads.
struct BenchFeed {
    var regions = 16
    var repsPerRegion = 250
    var days = 100
    var seed: UInt64 = 42
    /// 2026-01-05 00:00 in Asia/Shanghai (a Monday).
    static let firstDay: EpochMillis = 1_767_542_400_000

    struct Event {
        var region: Int
        var json: [UInt8]
    }

    /// The windows every pipeline and domain mode computes.
    static let windows = ["day", "week", "month", "quarter"]

    /// `count` events' payloads back to back in one array, each with its range and region: the
    /// in-memory modes read them without a per-event array.
    func payloads(_ count: Int) -> (arena: [UInt8], events: [(range: Range<Int>, region: Int)]) {
        var arena: [UInt8] = []
        var events: [(range: Range<Int>, region: Int)] = []
        events.reserveCapacity(count)
        generate(count) { event in
            let start = arena.count
            arena.append(contentsOf: event.json)
            events.append((start..<arena.count, event.region))
        }
        return (arena, events)
    }

    /// Calls `body` with each of `count` events, in (roughly) time order.
    func generate(_ count: Int, _ body: (Event) -> Void) {
        var rng = SplitMix64(seed: seed)
        let span = EpochMillis(days) * Timestamp.millisPerDay
        let regionNames = (0..<regions).map { "region-\($0)" }
        var json: [UInt8] = []
        json.reserveCapacity(512)
        for i in 0..<count {
            let jitter = EpochMillis(rng.next() % 600_000) - 300_000
            let t = Self.firstDay + span * EpochMillis(i) / EpochMillis(count) + jitter
            let region = Int(rng.next() % UInt64(regions))
            let rep = "r-\(region)-\(rng.next() % UInt64(repsPerRegion))"
            let roll = rng.next() % 100
            json.removeAll(keepingCapacity: true)
            let head =
                "{\"event_id\":\"ev-\(seed)-\(i)\",\"occurred_at\":\"\(Timestamp.format(t, offsetSeconds: 28_800))\",\"region\":\"\(regionNames[region])\","
            json.append(contentsOf: head.utf8)
            let rest: String
            switch roll {
            case 0..<58:
                let type =
                    roll < 30 ? "deal.created" : roll < 45 ? "deal.won" : roll < 53 ? "deal.lost" : "deal.stage_changed"
                let created = roll < 30 ? t : t - EpochMillis(1 + rng.next() % (40 * 86_400)) * 1000
                let usd = rng.next() % 20 == 0
                let cents = rng.next() % 100
                let stage = type == "deal.stage_changed" ? ",\"stage\":\"negotiation\"" : ""
                rest =
                    "\"type\":\"\(type)\",\"rep_id\":\"\(rep)\",\"deal_id\":\"d-\(seed)-\(i)\",\"amount\":\"\(1000 + rng.next() % 150_000).\(cents < 10 ? "0" : "")\(cents)\",\"currency\":\"\(usd ? "USD" : "CNY")\",\"created_at\":\"\(Timestamp.format(created, offsetSeconds: 28_800))\"\(stage)}"
            case 58..<80:
                let type = roll < 75 ? "customer.acquired" : "customer.churned"
                rest = "\"type\":\"\(type)\",\"rep_id\":\"\(rep)\",\"customer_id\":\"c-\(seed)-\(i)\"}"
            default:
                let channel = ["ads", "events", "sdr"][Int(rng.next() % 3)]
                let repField = channel == "sdr" ? ",\"rep_id\":\"\(rep)\"" : ""
                rest =
                    "\"type\":\"spend.recorded\",\"channel\":\"\(channel)\",\"amount\":\(500 + rng.next() % 20_000),\"currency\":\"CNY\"\(repField)}"
            }
            json.append(contentsOf: rest.utf8)
            body(Event(region: region, json: json))
        }
    }
}
