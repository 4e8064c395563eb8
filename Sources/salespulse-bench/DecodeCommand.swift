import ArgumentParser
import Foundation
import SalesKPI
import Worker

/// The decoder alone, on one core, over the same payloads the pipeline reads.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode", abstract: "Measure the event decoder on the feed's payloads.")

    @OptionGroup var feed: FeedOptions
    @Option(help: "Passes over the payloads; the best one is reported.") var passes = 5

    func run() throws {
        let config = try ResolvedConfig.resolve(WorkerConfig(), TargetsFile(), MarketsFile())
        let (arena, events) = feed.feed.payloads(feed.events)
        let decoder = config.decoder
        var best = Double.infinity
        var valid = 0
        arena.withUnsafeBytes { all in
            for _ in 0..<passes {
                var ok = 0
                let began = ContinuousClock.now
                for (range, _) in events {
                    if case .event(let e) = decoder.decode(UnsafeRawBufferPointer(rebasing: all[range])),
                        e.occurredAt > 0
                    {
                        ok += 1
                    }
                }
                best = min(best, (ContinuousClock.now - began).seconds)
                valid = ok
            }
        }
        guard valid == feed.events else { throw ValidationError("decode: only \(valid) of \(feed.events) valid") }
        let rate = Double(feed.events) / best
        print(
            "decoded events=\(feed.events) bytes=\(arena.count) "
                + String(
                    format: "seconds=%.3f events_per_s=%.0f mb_per_s=%.1f", best, rate, Double(arena.count) / best / 1e6
                ))
    }
}
