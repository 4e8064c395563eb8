import ArgumentParser
import Foundation
import SalesKPI
import Worker

/// The domain work of the aggregate stage alone, on one core and without Kafka: decode every
/// payload, apply it to its partition's shard (8, by region as the route stage partitions), and
/// encode every summary the shards emit, closing all windows at the end; every `flush-every`
/// events each shard's changelog is taken, as a commit would (that is also what lets a shard
/// forget old event ids). The ceiling a worker thread could reach if consuming, producing and
/// committing cost nothing.
struct ShardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shard", abstract: "Measure decode, aggregation and summary encoding without Kafka.")

    @OptionGroup var feed: FeedOptions
    @Option(help: "Passes over the payloads; the best one is reported.") var passes = 3
    @Option(help: "Shards (partitions of the internal topic).") var shards = 8
    @Option(help: "Events between changelog flushes (about one commit interval of a worker).") var flushEvery = 100_000

    func run() throws {
        var w = WorkerConfig()
        w.time.windows = BenchFeed.windows
        let config = try ResolvedConfig.resolve(w, TargetsFile(), MarketsFile())
        let settings = config.settings
        // Locals: reading an option's property wrapper in the loop showed in the profile.
        let (shards, flushEvery) = (self.shards, self.flushEvery)
        let (arena, events) = feed.feed.payloads(feed.events)
        var best = Double.infinity
        var summaries = 0
        var bytes = 0
        var changelog = 0
        for _ in 0..<passes {
            var processors = Array(repeating: ShardProcessor(settings: settings), count: shards)
            var effects: [ShardEffect] = []
            var count = 0
            var total = 0
            var records = 0
            let encode = { (effects: inout [ShardEffect]) in
                for case .summary(let s) in effects {
                    count += 1
                    total += s.json(currency: settings.reportingCurrency, calendar: settings.calendar).count
                }
                effects.removeAll(keepingCapacity: true)
            }
            let flush = {
                for k in processors.indices { records += processors[k].takeChangelog().count }
            }
            let began = ContinuousClock.now
            arena.withUnsafeBytes { all in
                for (n, (range, region)) in events.enumerated() {
                    let shard = region % shards
                    if n % flushEvery == flushEvery - 1 { flush() }
                    guard case .event(let e) = config.decoder.decode(UnsafeRawBufferPointer(rebasing: all[range]))
                    else { continue }
                    _ = processors[shard].apply(e, effects: &effects)
                    // One ordered source per shard: its progress is its newest event. (A local:
                    // reading it inside the mutating call copied the whole shard.)
                    let newest = processors[shard].maxEventTime
                    processors[shard].advanceProgress(to: newest, effects: &effects)
                    if !effects.isEmpty { encode(&effects) }
                }
            }
            for k in processors.indices {
                processors[k].advanceWatermark(
                    to: processors[k].maxEventTime + 120 * Timestamp.millisPerDay, effects: &effects)
                encode(&effects)
            }
            flush()
            best = min(best, (ContinuousClock.now - began).seconds)
            summaries = count
            bytes = total
            changelog = records
        }
        print(
            "sharded events=\(feed.events) summaries=\(summaries) summary_bytes=\(bytes) changelog_records=\(changelog) "
                + String(format: "seconds=%.3f events_per_s=%.0f", best, Double(feed.events) / best))
    }
}
