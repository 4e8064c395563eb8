import Synchronization

/// What /healthz and /readyz report.
///
/// Ready means: the consumer has joined its group and received an assignment, every assigned
/// partition is ready to process (this version keeps no state to restore, so assignment is
/// enough), the cluster answered the last metadata probe, and no shutdown is under way.
package final class HealthState: Sendable {
    private let joined = Atomic<Bool>(false)
    private let reachable = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let alive = Atomic<Bool>(true)

    package init() {}

    package var isReady: Bool {
        joined.load(ordering: .relaxed) && reachable.load(ordering: .relaxed) && !stopping.load(ordering: .relaxed)
    }

    package var isAlive: Bool { alive.load(ordering: .relaxed) }
    package var isReachable: Bool { reachable.load(ordering: .relaxed) }

    func setJoined(_ value: Bool) { joined.store(value, ordering: .relaxed) }
    func setReachable(_ value: Bool) { reachable.store(value, ordering: .relaxed) }
    func setStopping() { stopping.store(true, ordering: .relaxed) }
    /// The pipeline thread ended (stopped or failed).
    func setDead() { alive.store(false, ordering: .relaxed) }
}
