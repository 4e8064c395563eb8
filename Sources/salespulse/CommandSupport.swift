import Foundation
import Kafka
import Logging
import Prometheus
import Worker

/// A failure at run time (exit code 1), as opposed to misuse of the command line or the
/// configuration (`ValidationError`, exit code 2).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Loads the configuration or exits with code 2 and every problem, before anything connects.
func loadConfigOrExit(_ options: ConfigOptions) -> ResolvedConfig {
    var isFolder: ObjCBool = false
    if let named = options.explicitDirectory,
        !FileManager.default.fileExists(atPath: named, isDirectory: &isFolder) || !isFolder.boolValue
    {
        FileHandle.standardError.write(Data("salespulse: --config \(named): no such folder\n".utf8))
        exit(2)
    }
    do {
        var config = try ConfigLoader.load(directory: options.directory)
        if let brokers = options.brokers {
            config.worker.kafka.brokers = brokers
        }
        return config
    } catch {
        FileHandle.standardError.write(Data("salespulse: \(error)\n".utf8))
        exit(2)
    }
}

/// Bootstraps logging once, to standard error, at the configured level and format; secret
/// librdkafka property values are scrubbed from every line.
func makeLogger(_ config: ResolvedConfig, quiet: Bool = false) -> Logger {
    let level = quiet ? Logger.Level.warning : config.worker.logLevel.level
    let secrets = SecretRedaction.secretValues(config.worker.kafka.properties)
    let json = config.worker.logFormat == .json
    LoggingSystem.bootstrap { label in
        if json {
            var handler = JSONLogHandler(label: label, secrets: secrets)
            handler.logLevel = level
            return handler
        }
        var handler = TextLogHandler(label: label, secrets: secrets)
        handler.logLevel = level
        return handler
    }
    let logger = Logger(label: "salespulse")
    KafkaLog.route(to: logger)
    return logger
}

/// The factory of the Prometheus registry a command's metrics go on, and the HTTP endpoint
/// serving them with `health` (nil when `observability.port` is 0). Exits with code 1 when the
/// port cannot be bound.
func startObservability(_ config: ResolvedConfig, health: HealthState, logger: Logger) -> (
    PrometheusMetricsFactory, ObservabilityServer?
) {
    let registry = PrometheusCollectorRegistry()
    var factory = PrometheusMetricsFactory(registry: registry)
    factory.defaultDurationHistogramBuckets = [
        .microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(10),
        .milliseconds(50),
        .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(10),
    ]
    let o = config.worker.observability
    guard o.port != 0 else { return (factory, nil) }
    do {
        let server = try ObservabilityServer(host: o.bind, port: o.port, registry: registry, health: health)
        logger.info("serving /metrics, /healthz and /readyz", metadata: ["port": "\(server.port)"])
        return (factory, server)
    } catch {
        FileHandle.standardError.write(
            Data(
                "salespulse: cannot serve metrics on \(o.bind):\(o.port) (\(error)); set observability.port (0 turns it off)\n"
                    .utf8))
        exit(1)
    }
}
