import ArgumentParser

/// Benchmark tools driven by scripts/bench.sh; not part of the worker.
@main
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "salespulse-bench",
        abstract: "SalesPulse benchmark tools (run through scripts/bench.sh).",
        subcommands: [
            PreloadCommand.self, ProcessCommand.self, DecodeCommand.self, StateCommand.self, CheckOffsetsCommand.self,
            BackPressureCommand.self, EncodeCommand.self, ShardCommand.self, LiveCommand.self,
        ])
}

/// The feed's shape, shared by every mode so they all see the same payloads.
struct FeedOptions: ParsableArguments {
    @Option(help: "Events to generate.") var events = 2_000_000
    @Option(help: "Regions (each is one key of the input topic).") var regions = 16
    @Option(help: "Reps per region.") var repsPerRegion = 250
    @Option(help: "Business days the events span.") var days = 100

    var feed: BenchFeed { BenchFeed(regions: regions, repsPerRegion: repsPerRegion, days: days) }
}
