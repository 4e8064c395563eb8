import ArgumentParser
import CMallocStats
import Foundation
import SalesKPI
import Worker

/// Memory of the aggregate state: `reps` reps (in `regions` regions), each with a won deal, a
/// new customer and spend on one day, so every rep and region scope has a day, week and month
/// window open. Reports heap bytes per (scope, window) aggregate, everything the shard holds
/// included (scope keys, customer ledgers, dedupe ids, the deal book), as resident-memory growth
/// while the state is built (the events are decoded beforehand).
///
/// Then the final windows kept for revisions (docs/guarantees.md, revised finals): the same
/// state is built twice more and every window closed, once with the default
/// `time.revision_horizon` and once with it off. The difference in heap bytes in use (glibc's
/// `mallinfo2`, which frees lower, unlike resident memory) over the windows kept, after a
/// changelog flush, is the cost of a revisable window.
struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state", abstract: "Measure bytes of state per (scope, window) aggregate.")

    @Option var reps = 100_000
    @Option var regions = 16

    func run() throws {
        var w = WorkerConfig()
        w.time.windows = ["day", "week", "month"]
        let config = try ResolvedConfig.resolve(w, TargetsFile(), MarketsFile())
        let day: EpochMillis = 1_767_542_400_000 + 10 * 3_600_000
        var payloads: [[UInt8]] = []
        payloads.reserveCapacity(reps * 3)
        for r in 0..<reps {
            let region = "region-\(r % regions)"
            let rep = "r-\(r % regions)-\(r / regions)"
            let t = Timestamp.format(day + EpochMillis(r % 3_600_000), offsetSeconds: 28_800)
            let created = Timestamp.format(day - 86_400_000 * 12, offsetSeconds: 28_800)
            payloads.append(
                Array(
                    "{\"event_id\":\"w\(r)\",\"type\":\"deal.won\",\"occurred_at\":\"\(t)\",\"region\":\"\(region)\",\"rep_id\":\"\(rep)\",\"deal_id\":\"d\(r)\",\"amount\":\"12000.50\",\"currency\":\"CNY\",\"created_at\":\"\(created)\"}"
                        .utf8))
            payloads.append(
                Array(
                    "{\"event_id\":\"c\(r)\",\"type\":\"customer.acquired\",\"occurred_at\":\"\(t)\",\"region\":\"\(region)\",\"rep_id\":\"\(rep)\",\"customer_id\":\"c\(r)\"}"
                        .utf8))
            payloads.append(
                Array(
                    "{\"event_id\":\"s\(r)\",\"type\":\"spend.recorded\",\"occurred_at\":\"\(t)\",\"region\":\"\(region)\",\"channel\":\"sdr\",\"rep_id\":\"\(rep)\",\"amount\":300,\"currency\":\"CNY\"}"
                        .utf8))
        }
        let events = payloads.map { payload -> SalesEvent in
            guard case .event(let e) = config.decoder.decode(payload) else { fatalError("bad bench payload") }
            return e
        }
        payloads = []
        let before = residentBytes()
        let heapBefore = heapInUse()
        let shard = Self.shard(taking: events, config.settings)
        let after = residentBytes()
        let heap = heapInUse() - heapBefore
        let aggregates = shard.openWindowCount
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print(
            "state reps=\(reps) scopes=\(shard.scopeCount) aggregates=\(aggregates) rss_growth_bytes=\(after - before) "
                + "bytes_per_aggregate=\((after - before) / max(1, aggregates)) "
                + "heap_bytes_per_aggregate=\(heap / max(1, aggregates)) peak_rss_kib=\(usage.ru_maxrss)")
        withExtendedLifetime(shard) {}
        let kept = closedState(events, config.settings, horizon: nil)
        let none = closedState(events, config.settings, horizon: 0)
        print(
            "revisable reps=\(reps) windows=\(kept.windows) heap_bytes=\(kept.heap) heap_bytes_off=\(none.heap) "
                + "bytes_per_revisable_window=\((kept.heap - none.heap) / max(1, kept.windows))")
    }

    /// A shard that took `events`, their effects published and let go as the runtime does.
    private static func shard(taking events: [SalesEvent], _ settings: KPISettings) -> ShardProcessor {
        var shard = ShardProcessor(settings: settings)
        var effects: [ShardEffect] = []
        for event in events {
            _ = shard.apply(event, effects: &effects)
            effects.removeAll(keepingCapacity: true)
        }
        return shard
    }

    /// Heap in use by a shard that took `events` and closed every window (past the month's end).
    private func closedState(_ events: [SalesEvent], _ settings: KPISettings, horizon: Int64?) -> (
        heap: Int, windows: Int
    ) {
        var settings = settings
        settings.revisionHorizonSetting = horizon
        let before = heapInUse()
        var shard = Self.shard(taking: events, settings)
        var effects: [ShardEffect] = []
        // 1 February 2026, Asia/Shanghai: past every window of 5 January.
        shard.advanceWatermark(to: 1_769_875_200_000, effects: &effects)
        effects = []
        // As after a commit: what waits for the next changelog flush is written and let go.
        _ = shard.takeChangelog()
        let heap = heapInUse() - before
        return withExtendedLifetime(shard) { (heap, shard.revisableWindowCount) }
    }
}

/// Heap bytes in use (small blocks and mmapped ones).
func heapInUse() -> Int {
    let m = mallinfo2()
    return Int(m.uordblks) + Int(m.hblkhd)
}

/// Resident bytes of this process, from /proc/self/statm.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
}
