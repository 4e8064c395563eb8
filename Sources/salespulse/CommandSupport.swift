import Foundation
import Logging
import Worker

/// Loads the configuration or exits with code 2 and every problem, before anything connects.
func loadConfigOrExit(_ options: ConfigOptions) -> ResolvedConfig {
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

/// Bootstraps logging once, to standard error, at the configured level.
func makeLogger(_ config: ResolvedConfig, quiet: Bool = false) -> Logger {
    let level = quiet ? Logger.Level.warning : Logger.Level(rawValue: config.worker.logLevel) ?? .info
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
    return Logger(label: "salespulse")
}

/// Runs `body` on its own thread (blocking Kafka work stays off the main thread).
func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread(block: body)
    thread.name = name
    thread.stackSize = 8 << 20
    thread.start()
}

/// Calls `handler` on SIGINT/SIGTERM; a second signal exits at once.
final class TerminationSignals: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let queue = DispatchQueue(label: "signals")

    init(_ handler: @escaping @Sendable (Int32) -> Void) {
        var seen = 0
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler {
                seen += 1
                if seen > 1 { exit(130) }
                handler(sig)
            }
            source.resume()
            sources.append(source)
        }
    }
}
