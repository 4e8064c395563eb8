import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Runs a command's services as one group: SIGTERM and SIGINT shut it down gracefully, each
/// service in the reverse order of `services`. A second signal while that takes its time exits
/// at once (exit 130), for a shutdown stuck on an unreachable cluster.
func runServices(_ services: [ServiceGroupConfiguration.ServiceConfiguration], logger: Logger) async throws {
    let impatience = SecondSignalExit()
    let group = ServiceGroup(
        configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
    withExtendedLifetime(impatience) {}
}

/// Counts SIGINT and SIGTERM alongside the service group's own handling; exits on the second.
// @unchecked Sendable: the sources are only created in init and cancelled in deinit.
final class SecondSignalExit: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    init() {
        let queue = DispatchQueue(label: "second-signal")
        let seen = Mutex(0)
        sources = [SIGINT, SIGTERM].map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler {
                let count = seen.withLock {
                    $0 += 1
                    return $0
                }
                if count > 1 { exit(130) }
            }
            source.resume()
            return source
        }
    }

    deinit { for source in sources { source.cancel() } }
}

/// Ends the group gracefully after `seconds` (`salespulse run --seconds`).
struct TimeLimit: Service {
    let seconds: Int

    func run() async throws {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(seconds)) }
    }
}
