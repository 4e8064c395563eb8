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
    @Flag(
        help:
            "Also print a digest of every summary and changelog record (FNV-1a), to check that a change keeps the output to the byte; the timing then includes it. The changelog's digest is the same from run to run only under SWIFT_DETERMINISTIC_HASHING=1: records of different keys in one flush come in a set's order."
    )
    var digest = false

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
        let digest = self.digest
        var digests = (summaries: Digest(), changelog: Digest())
        for _ in 0..<passes {
            digests = (Digest(), Digest())
            var processors = Array(repeating: ShardProcessor(settings: settings), count: shards)
            var effects: [ShardEffect] = []
            var count = 0
            var total = 0
            var records = 0
            let encode = { (effects: inout [ShardEffect]) in
                for case .summary(let s) in effects {
                    count += 1
                    let json = s.json(currency: settings.reportingCurrency, calendar: settings.calendar)
                    total += json.count
                    if digest { digests.summaries.add(json) }
                }
                effects.removeAll(keepingCapacity: true)
            }
            let flush = {
                for k in processors.indices {
                    let taken = processors[k].takeChangelog()
                    records += taken.count
                    guard digest else { continue }
                    for record in taken {
                        digests.changelog.add(Array(record.key.utf8))
                        digests.changelog.add(record.value ?? [])
                    }
                }
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
        if digest {
            print(
                "digest summaries=\(String(digests.summaries.value, radix: 16)) changelog=\(String(digests.changelog.value, radix: 16))"
            )
        }
    }
}

/// FNV-1a over a sequence of byte strings, each followed by its length (so boundaries count).
struct Digest {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: [UInt8]) {
        for b in bytes { mix(b) }
        var n = UInt64(bytes.count)
        for _ in 0..<8 {
            mix(UInt8(truncatingIfNeeded: n))
            n >>= 8
        }
    }

    private mutating func mix(_ b: UInt8) {
        value = (value ^ UInt64(b)) &* 0x100_0000_01b3
    }
}
