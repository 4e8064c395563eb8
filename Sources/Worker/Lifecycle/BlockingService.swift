import ServiceLifecycle

/// Work that blocks its thread in librdkafka calls (poll, flush, commit) as a service: it runs
/// on a thread of its own, graceful shutdown calls `stop`, and the service ends when the work
/// returns (by itself too: a bounded run that is complete, a simulated feed at its last day).
package struct BlockingService: Service, CustomStringConvertible {
    package let description: String
    private let body: @Sendable () throws -> Void
    private let stop: @Sendable () -> Void

    package init(
        _ name: String, run body: @escaping @Sendable () throws -> Void, stop: @escaping @Sendable () -> Void
    ) {
        description = name
        self.body = body
        self.stop = stop
    }

    package func run() async throws {
        let body = body
        try await withGracefulShutdownHandler {
            try await onDedicatedThread(description, body)
        } onGracefulShutdown: {
            stop()
        }
    }
}

extension BlockingService {
    /// The stages: on shutdown they finish what they hold, commit and leave their groups.
    package init(_ pipeline: Pipeline) {
        self.init("pipeline", run: { try pipeline.run() }, stop: pipeline.stop)
    }

    package init(_ simulator: SimulatorRunner) {
        self.init("simulator", run: { try simulator.run() }, stop: simulator.stop)
    }

    package init(_ notifier: Notifier) {
        self.init("notifier", run: { try notifier.run() }, stop: notifier.stop)
    }
}

/// A service that only waits for graceful shutdown: what keeps a process up that has nothing
/// else to run (the standalone broker), or holds a resource until the end (the HTTP endpoint).
package struct UntilShutdown: Service, CustomStringConvertible {
    package let description: String
    private let atShutdown: @Sendable () -> Void

    package init(_ name: String, atShutdown: @escaping @Sendable () -> Void = {}) {
        description = name
        self.atShutdown = atShutdown
    }

    package func run() async throws {
        try? await gracefulShutdown()
        atShutdown()
    }
}
