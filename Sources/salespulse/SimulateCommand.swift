import ArgumentParser
import Foundation
import ServiceLifecycle
import Worker

/// `salespulse simulate`: realistic CRM traffic into any cluster.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate", abstract: "Produce simulated CRM events into the configured input topics.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "Days of history produced at once before going live.")
    var backfillDays = 28

    @Option(help: "Stop after this many live business days (default: until Ctrl-C).")
    var days: Int?

    func validate() throws {
        guard backfillDays >= 0 else { throw ValidationError("--backfill-days must be 0 or more, not \(backfillDays)") }
        if let days, days < 1 { throw ValidationError("--days must be at least 1, not \(days)") }
    }

    func run() async throws {
        let config = loadConfigOrExit(options)
        guard !config.hasNoBrokers else {
            throw ValidationError("simulate needs --brokers or kafka.brokers (run `salespulse broker` for a local one)")
        }
        let logger = makeLogger(config)
        let simulator = SimulatorRunner(
            config: config, bootstrap: config.worker.kafka.brokers, logger: logger, backfillDays: backfillDays,
            maxDays: days)
        // Its last day (--days) ends the run as a signal would.
        try await runServices([.init(service: BlockingService(simulator))], logger: logger)
        print("produced \(simulator.produced) events")
    }
}
