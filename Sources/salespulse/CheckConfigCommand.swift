import ArgumentParser
import Foundation
import Worker

/// `salespulse check-config`: validates the configuration and prints the effective values.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Validate the configuration (exit code 2 when invalid) and print it.")

    @OptionGroup var options: ConfigOptions

    func run() throws {
        print(try ConfigReport.render(loadConfigOrExit(options)))
    }
}
