import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import Worker

/// Timings here are measured from the stop, never from when the test began: the suite runs
/// many tests at once on two cores, and a test's own task can wait long for a thread.
@Suite("Lifecycle: services, graceful shutdown, stop signals")
struct LifecycleTests {
    @Test("a stop signal wakes a waiting thread at once, and only a stop does")
    func stopSignal() throws {
        let signal = StopSignal()
        let start = ContinuousClock.now
        #expect(!signal.wait(upTo: .milliseconds(50)))
        #expect(ContinuousClock.now - start >= .milliseconds(50))
        let woke = Mutex<(stopped: Bool, at: ContinuousClock.Instant)?>(nil)
        let reported = DispatchSemaphore(value: 0)
        let thread = Thread {
            let stopped = signal.wait(upTo: .seconds(3600))
            woke.withLock { $0 = (stopped, ContinuousClock.now) }
            reported.signal()
        }
        thread.start()
        Thread.sleep(forTimeInterval: 0.1)
        let stoppedAt = ContinuousClock.now
        signal.stop()
        signal.stop()
        #expect(reported.wait(timeout: .now() + 600) == .success)
        let result = try #require(woke.withLock { $0 })
        #expect(result.stopped)
        #expect(result.at - stoppedAt < .seconds(30), "woke \(result.at - stoppedAt) after the stop")
        #expect(signal.isRequested && signal.wait(upTo: .zero))
    }

    @Test("graceful shutdown stops blocking work on its own thread; work that ends by itself ends the group")
    func blockingService() async throws {
        let logger = Logger(label: "test")
        // Shut down from outside: the work's stop is called and the group returns.
        let work = StopSignal()
        let stops = Atomic<Int>(0)
        let service = BlockingService(
            "work", run: { _ = work.wait(upTo: .seconds(3600)) },
            stop: {
                stops.add(1, ordering: .relaxed)
                work.stop()
            })
        let group = ServiceGroup(services: [service], logger: logger)
        async let running: Void = group.run()
        await group.triggerGracefulShutdown()
        try await running
        #expect(stops.load(ordering: .relaxed) == 1)

        // Ending by itself (a bounded run complete) shuts the others down gracefully.
        let other = StopSignal()
        let ends = BlockingService("bounded", run: {}, stop: {})
        let waits = BlockingService("other", run: { _ = other.wait(upTo: .seconds(3600)) }, stop: other.stop)
        try await ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: waits), .init(service: ends, successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                logger: logger)
        ).run()
        #expect(other.isRequested, "the other service was asked to stop")
    }
}
