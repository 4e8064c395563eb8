import Dispatch
import Synchronization

/// A one-way stop request that threads can check and wait on. `wait(upTo:)` returns at once
/// when stop has been requested, so a paced loop or a retry backoff on a dedicated thread ends
/// as soon as it is asked to, instead of sleeping and checking a flag.
package final class StopSignal: Sendable {
    private let requested = Atomic<Bool>(false)
    // Entered once at creation and left once by the first `stop()`: waiting on it is waiting
    // for the stop.
    private let pending = DispatchGroup()

    package init() { pending.enter() }

    package func stop() {
        guard !requested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        pending.leave()
    }

    package var isRequested: Bool { requested.load(ordering: .acquiring) }

    /// Waits until stop is requested or `duration` has passed; returns whether stop was requested.
    @discardableResult
    package func wait(upTo duration: Duration) -> Bool {
        let nanos = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        return pending.wait(timeout: .now() + .nanoseconds(Int(nanos))) == .success
    }
}
