import ArgumentParser
import Foundation
import ServiceLifecycle
import Worker

/// `salespulse notify`: delivers `kpi.alerts` to the chat and HTTP webhooks of notify.yaml.
struct NotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify",
        abstract: "Deliver alerts to DingTalk, Feishu, WeCom, Slack or HTTP webhooks (config/notify.yaml).")

    @OptionGroup var options: ConfigOptions

    @Option(help: "The webhooks file (default: notify.yaml in the config folder).")
    var notifyConfig: String?

    func run() async throws {
        let config = loadConfigOrExit(options)
        guard !config.hasNoBrokers else {
            throw ValidationError(
                "notify needs --brokers or kafka.brokers (the cluster the worker writes kpi.alerts to)")
        }
        let path = notifyConfig ?? (options.directory as NSString).appendingPathComponent("notify.yaml")
        let notify: NotifyConfig
        do {
            notify = try NotifyConfig.load(path: path)
        } catch {
            FileHandle.standardError.write(Data("salespulse: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let logger = makeLogger(config)
        let health = HealthState()
        let (factory, server) = startObservability(config, health: health, logger: logger)
        let notifier = Notifier(
            config: config, notify: notify, bootstrap: config.worker.kafka.brokers, logger: logger, health: health,
            metrics: NotifyMetrics(factory: factory, webhooks: notify.webhooks.map(\.name)))
        logger.info(
            "notify started",
            metadata: [
                "webhooks": "\(notify.webhooks.map(\.name))", "topics": "\(config.worker.topics.alerts)",
            ])
        do {
            try await runServices(
                [
                    .init(service: UntilShutdown("observability") { server?.shutdown() }),
                    .init(
                        service: BlockingService(notifier), successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup),
                ], logger: logger)
        } catch {
            throw CommandFailure("notify failed: \(error)")
        }
        let c = notifier.snapshot
        print("stopped cleanly: \(c.alerts) alerts, \(c.sent) sent, \(c.deadLettered) dead-lettered")
    }
}
