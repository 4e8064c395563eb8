import Foundation

/// The notifier's `OffsetTracker`, shared by the consumer thread and the webhook lanes: every
/// change wakes whoever waits for alerts to be handled, so the consumer waits on the lanes'
/// progress (or a stop) instead of polling the count.
// @unchecked Sendable: `tracker` is only touched with `condition` locked.
final class InFlightAlerts: @unchecked Sendable {
    private let condition = NSCondition()
    private var tracker = OffsetTracker()

    func update<T>(_ body: (inout OffsetTracker) -> T) -> T {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        return body(&tracker)
    }

    /// A look that changes nothing, so wakes nobody.
    func read<T>(_ body: (OffsetTracker) -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body(tracker)
    }

    /// Wakes the waiters to look again (a stop).
    func wake() { update { _ in } }

    /// Waits until `holds` is true of the tracker, `deadline` passes or `wake()` is called
    /// without it holding; returns whether it holds.
    @discardableResult
    func wait(until deadline: Date, for holds: (OffsetTracker) -> Bool) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !holds(tracker) {
            guard condition.wait(until: deadline) else { return holds(tracker) }
        }
        return true
    }
}
