import ArgumentParser
import Foundation
import Worker
import Yams

/// `salespulse check-config`: validates the configuration and prints the effective values.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Validate the configuration (exit code 2 when invalid) and print it.")

    @OptionGroup var options: ConfigOptions

    func run() throws {
        var config = loadConfigOrExit(options)
        config.worker.kafka.properties = SecretRedaction.redact(config.worker.kafka.properties)
        let yaml = try YAMLEncoder().encode(config.worker)
        print("# effective worker configuration (secrets redacted)\n" + yaml)
        print(
            "# \(config.targetsFile.targets.count) targets, \(config.marketsFile.regions.count) regions with market sizes"
        )
        print("configuration OK")
    }
}
