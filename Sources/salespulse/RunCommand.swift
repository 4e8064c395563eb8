import ArgumentParser
import Foundation
import Kafka
import Logging
import ServiceLifecycle
import Worker

/// `salespulse run`: the worker. With `--embedded` (the demo) it brings its own broker and CRM
/// feed; without it, an empty broker list is a configuration error, so a deployment whose broker
/// setting went missing never runs on simulated data.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the worker on kafka.brokers, or with --embedded on its own broker and a simulated CRM feed.")

    @OptionGroup var options: ConfigOptions

    @Flag(help: "The demo: an embedded mock-cluster broker and a simulated CRM feed (needs no brokers configured).")
    var embedded = false

    @Flag(help: "Print log lines instead of the live KPI table.")
    var noLive = false

    @Option(help: "Stop by itself after this many seconds (0: run until Ctrl-C).")
    var seconds = 0

    @Flag(
        help: ArgumentHelp(
            "A bounded run: read every input partition up to its end at start, publish every final, commit, exit 0.",
            discussion:
                "Backfills, monthly reconciliation, checks in CI. Several instances started together share the work. Exits 1 with the reason when its state cannot be restored (written under another time zone or currency)."
        ))
    var untilEnd = false

    func validate() throws {
        guard seconds >= 0 else { throw ValidationError("--seconds must be 0 or more, not \(seconds)") }
        if untilEnd, embedded {
            throw ValidationError(
                "--until-end reads what the topics hold when it starts; the --embedded demo starts empty")
        }
    }

    func run() async throws {
        let config = loadConfigOrExit(options)
        try checkBrokerChoice(config)
        let live = !noLive
        let logger = makeLogger(config, quiet: live && isatty(STDOUT_FILENO) != 0)
        var broker: EmbeddedBroker?
        let bootstrap: String
        if embedded {
            do {
                broker = try EmbeddedBroker(brokers: 3, config: config)
            } catch {
                throw CommandFailure("cannot start the embedded broker: \(error)")
            }
            bootstrap = broker!.bootstrapServers
            print(
                "SalesPulse demo: an embedded 3-broker Kafka (librdkafka mock) runs at \(bootstrap)"
            )
            print(
                "            and a simulated CRM feed plays \(config.worker.simulator.speed) of business time per second."
            )
        } else {
            bootstrap = config.worker.kafka.brokers
            do {
                try TopicProvisioner.ensureTopics(config, bootstrap: bootstrap, logger: logger)
            } catch {
                throw CommandFailure(error.description)
            }
            print("SalesPulse: consuming \(config.worker.topics.inputs.joined(separator: ", ")) from \(bootstrap)")
        }
        var ends: [TopicPartition: Int64]?
        if untilEnd {
            do {
                ends = try BoundedRun.endOffsets(config, bootstrap: bootstrap)
            } catch {
                throw CommandFailure("cannot read the input partitions' end offsets: \(error)")
            }
            print(
                "            Bounded run: up to \(ends!.values.reduce(0, +)) offsets over \(ends!.count) input partitions."
            )
        }
        print("            Ctrl-C stops it cleanly.\n")

        let board = LiveBoard(settings: config.settings)
        let health = HealthState()
        let (factory, server) = startObservability(config, health: health, logger: logger)
        let metrics = PipelineMetrics(factory: factory)
        let pipeline = Pipeline(
            config: config, bootstrap: bootstrap, logger: logger, hooks: board.hooks, metrics: metrics, health: health,
            until: ends)
        // Shut down in reverse: the time limit and the table, the simulated feed, the stages
        // (commit, leave the groups), the HTTP endpoint last.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: UntilShutdown("observability") { server?.shutdown() }),
            // Ending by itself (a bounded run complete) or failing ends the whole run.
            .init(
                service: BlockingService(pipeline), successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup),
        ]
        if embedded {
            let simulator = SimulatorRunner(config: config, bootstrap: bootstrap, logger: logger)
            services.append(
                .init(
                    service: BlockingService(simulator), successTerminationBehavior: .ignore,
                    failureTerminationBehavior: .ignore))
        }
        if live {
            services.append(
                .init(
                    service: LiveView(board: board, pipeline: pipeline, header: header(bootstrap, embedded)),
                    successTerminationBehavior: .ignore))
        }
        if seconds > 0 {
            services.append(
                .init(service: TimeLimit(seconds: seconds), successTerminationBehavior: .gracefullyShutdownGroup))
        }
        do {
            try await runServices(services, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("salespulse: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let stats = pipeline.stats.snapshot
        print(
            "\nstopped cleanly: \(stats.events) events, \(stats.deadLetters) dead letters, "
                + "\(stats.summariesPublished) summaries (\(stats.finalSummariesPublished) final), \(stats.alertsPublished) alerts."
        )
        // The embedded broker must outlive every client that talks to it.
        withExtendedLifetime(broker) {}
    }

    /// Exit code 2 when the brokers and `--embedded` disagree, before anything starts.
    private func checkBrokerChoice(_ config: ResolvedConfig) throws {
        if embedded, !config.hasNoBrokers {
            throw ValidationError(
                "--embedded runs its own broker, but kafka.brokers is '\(config.worker.kafka.brokers)': "
                    + "drop --embedded, or the brokers (kafka.brokers, SALESPULSE_KAFKA_BROKERS, --brokers)")
        }
        if !embedded, config.hasNoBrokers {
            throw ValidationError(
                "kafka.brokers is empty: set it (or SALESPULSE_KAFKA_BROKERS, or --brokers); "
                    + "for the demo on simulated data, pass --embedded")
        }
    }

    private func header(_ bootstrap: String, _ embedded: Bool) -> String {
        "SalesPulse — \(embedded ? "embedded broker" : "cluster") \(bootstrap) — Ctrl-C to stop\n"
    }
}
