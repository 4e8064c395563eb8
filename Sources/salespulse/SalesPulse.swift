import ArgumentParser

/// The `salespulse` command: argument parsing only; the work lives in the Worker library.
@main
struct SalesPulse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "salespulse",
        abstract: "Windowed sales KPIs from CRM events in Kafka: summaries for dashboards, alerts for sales ops.",
        subcommands: [RunCommand.self, SimulateCommand.self, CheckConfigCommand.self, BrokerCommand.self],
        defaultSubcommand: RunCommand.self)
}

/// Options shared by the subcommands that read the configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: "Folder with worker.yaml, targets.yaml and markets.yaml.")
    var directory = "config"

    @Option(help: "Kafka bootstrap servers; overrides kafka.brokers (empty: embedded broker).")
    var brokers: String?
}
