import ArgumentParser
import Foundation

/// The `salespulse` command: argument parsing only; the work lives in the Worker library.
@main
struct SalesPulse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "salespulse",
        abstract: "Windowed sales KPIs from CRM events in Kafka: summaries for dashboards, alerts for sales ops.",
        subcommands: [
            RunCommand.self, NotifyCommand.self, SimulateCommand.self, CheckConfigCommand.self, BrokerCommand.self,
        ],
        defaultSubcommand: RunCommand.self)

    /// Misuse of the command line ends like a bad configuration, with exit code 2 (the parser's
    /// own choice is 64), so scripts and supervisors need to know one code for "fix the input".
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            guard code == .validationFailure else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
    }
}

/// Options shared by the subcommands that read the configuration.
struct ConfigOptions: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help:
            "Folder with worker.yaml, targets.yaml and markets.yaml (default: ./config; a missing file means defaults)."
    )
    var explicitDirectory: String?

    /// A folder named on the command line must exist; the default one may be absent (all defaults).
    var directory: String { explicitDirectory ?? "config" }

    @Option(help: "Kafka bootstrap servers; overrides kafka.brokers.")
    var brokers: String?
}
