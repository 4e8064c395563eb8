import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import Worker

@Suite("Lifecycle: services, graceful shutdown, stop signals")
struct LifecycleTests {
    @Test("a stop signal wakes a waiting thread at once, and only a stop does")
    func stopSignal() async throws {
        let signal = StopSignal()
        let start = ContinuousClock.now
        #expect(!signal.wait(upTo: .milliseconds(50)))
        #expect(ContinuousClock.now - start >= .milliseconds(50))
        let woke = Mutex<Duration?>(nil)
        let waiting = ContinuousClock.now
        let thread = Thread {
            let stopped = signal.wait(upTo: .seconds(60))
            woke.withLock { $0 = stopped ? ContinuousClock.now - waiting : nil }
        }
        thread.start()
        try await Task.sleep(for: .milliseconds(100))
        signal.stop()
        signal.stop()
        while woke.withLock({ $0 }) == nil, ContinuousClock.now - waiting < .seconds(60) {
            try await Task.sleep(for: .milliseconds(10))
        }
        let after = try #require(woke.withLock { $0 })
        #expect(after < .seconds(10), "woke \(after) after the wait began")
        #expect(signal.isRequested && signal.wait(upTo: .zero))
    }

    @Test("graceful shutdown stops blocking work on its own thread; work that ends by itself ends the group")
    func blockingService() async throws {
        let logger = Logger(label: "test")
        // Shut down from outside: the work's stop is called and the group returns.
        let work = StopSignal()
        let stops = Atomic<Int>(0)
        let service = BlockingService(
            "work", run: { _ = work.wait(upTo: .seconds(120)) },
            stop: {
                stops.add(1, ordering: .relaxed)
                work.stop()
            })
        let group = ServiceGroup(services: [service], logger: logger)
        async let running: Void = group.run()
        try await Task.sleep(for: .milliseconds(200))
        await group.triggerGracefulShutdown()
        try await running
        #expect(stops.load(ordering: .relaxed) == 1)

        // Ending by itself (a bounded run complete) shuts the others down gracefully.
        let other = StopSignal()
        let ends = BlockingService("bounded", run: {}, stop: {})
        let waits = BlockingService("other", run: { _ = other.wait(upTo: .seconds(120)) }, stop: other.stop)
        let start = ContinuousClock.now
        try await ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: waits), .init(service: ends, successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                logger: logger)
        ).run()
        #expect(other.isRequested)
        #expect(ContinuousClock.now - start < .seconds(60))
    }
}
