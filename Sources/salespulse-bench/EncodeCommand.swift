import ArgumentParser
import Foundation
import SalesKPI
import Worker

/// The summary encoder alone, on one core: the final summaries of the feed (a few hundred
/// thousand of them for the default feed) written as `kpi.summaries` JSON.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode", abstract: "Measure the summary encoder on the feed's final summaries.")

    @OptionGroup var feed: FeedOptions
    @Option(help: "Passes over the summaries; the best one is reported.") var passes = 5

    func run() throws {
        var w = WorkerConfig()
        w.time.windows = BenchFeed.windows
        let config = try ResolvedConfig.resolve(w, TargetsFile(), MarketsFile())
        var shard = ShardProcessor(settings: config.settings)
        var effects: [ShardEffect] = []
        feed.feed.generate(feed.events) { event in
            guard case .event(let e) = config.decoder.decode(event.json) else { return }
            _ = shard.apply(e, effects: &effects)
        }
        // Past the end of every window of the feed (a quarter is the longest).
        shard.advanceWatermark(to: shard.maxEventTime + 120 * Timestamp.millisPerDay, effects: &effects)
        let summaries = effects.compactMap { effect -> Summary? in
            if case .summary(let s) = effect, s.final { s } else { nil }
        }
        guard !summaries.isEmpty else { throw ValidationError("encode: no final summaries") }
        let settings = config.settings
        var best = Double.infinity
        var bytes = 0
        for _ in 0..<passes {
            var total = 0
            let began = ContinuousClock.now
            for s in summaries {
                total += s.json(currency: settings.reportingCurrency, calendar: settings.calendar).count
            }
            best = min(best, (ContinuousClock.now - began).seconds)
            bytes = total
        }
        print(
            "encoded summaries=\(summaries.count) bytes=\(bytes) "
                + String(
                    format: "seconds=%.3f summaries_per_s=%.0f mb_per_s=%.1f", best, Double(summaries.count) / best,
                    Double(bytes) / best / 1e6))
    }
}
