import ArgumentParser
import Foundation
import ServiceLifecycle
import Worker

/// `salespulse broker`: a standalone Kafka-protocol broker for development and tests.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract:
            "Run librdkafka's mock cluster as a standalone broker (data lives in memory, max 5 MiB per partition).")

    @OptionGroup var options: ConfigOptions

    @Option(help: "Number of brokers in the cluster.")
    var count = 3

    @Option(help: "Partitions of each topic created up front.")
    var partitions: Int?

    @Option(help: "Write the bootstrap servers to this file once ready.")
    var bootstrapFile: String?

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1, not \(count)") }
        if let partitions, partitions < 1 {
            throw ValidationError("--partitions must be at least 1, not \(partitions)")
        }
    }

    func run() async throws {
        let config = loadConfigOrExit(options)
        let broker: EmbeddedBroker
        do {
            broker = try EmbeddedBroker(brokers: count, config: config, partitions: partitions)
        } catch {
            throw CommandFailure("cannot start the broker: \(error)")
        }
        print(broker.bootstrapServers)
        fflush(nil)
        if let bootstrapFile {
            try broker.bootstrapServers.write(toFile: bootstrapFile, atomically: true, encoding: .utf8)
        }
        try await runServices([.init(service: UntilShutdown("broker"))], logger: makeLogger(config))
        withExtendedLifetime(broker) {}
    }
}
