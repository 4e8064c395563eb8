import Foundation
import SalesKPI
import Synchronization

/// What /healthz and /readyz report.
///
/// Alive: the pipeline thread runs, and no stage has gone `stall_timeout` without moving (its
/// loop blocked inside a call: a produce waiting for room, a commit), nor been rebuilt three
/// times without a commit of assigned partitions going through in between (a record, a broker
/// or a changelog it cannot get past).
///
/// Ready: the stages have joined their groups, the cluster answered the last metadata probe, no
/// stage is being rebuilt or restoring its state, and no shutdown is under way.
package final class HealthState: Sendable {
    private let joined = Atomic<Bool>(false)
    private let reachable = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let alive = Atomic<Bool>(true)
    private let stallTimeout = Atomic<Int64>(120_000)
    private let stages = Mutex<[String: StageHealth]>([:])
    private let clock: @Sendable () -> EpochMillis

    /// Rebuilds in a row, without a commit between them, that make a stage unhealthy.
    static let rebuildLimit = 3

    struct StageHealth {
        /// When the stage last moved: handled input, or had none to handle.
        var progressAt: EpochMillis
        var rebuilding = false
        var restoring = false
        /// Rebuilds since the stage last committed.
        var failedRebuilds = 0
        /// Why it broke the last time, for /healthz: an operator sees the cause, not only a count.
        var lastFailure: String?
    }

    package init(clock: @escaping @Sendable () -> EpochMillis = Pipeline.wallClock) { self.clock = clock }

    package var isReady: Bool { notReadyReasons.isEmpty }

    package var isAlive: Bool { alive.load(ordering: .relaxed) && problems.isEmpty }
    package var isReachable: Bool { reachable.load(ordering: .relaxed) }

    /// Why the pipeline is not alive or not ready, one line each; empty when it is both.
    package var problems: [String] {
        let now = clock()
        let timeout = stallTimeout.load(ordering: .relaxed)
        var out: [String] = []
        if !alive.load(ordering: .relaxed) { out.append("pipeline stopped") }
        for (name, s) in stages.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            if s.failedRebuilds >= Self.rebuildLimit {
                out.append(
                    "\(name): rebuilt \(s.failedRebuilds) times without a commit going through"
                        + (s.lastFailure.map { "; the last time: \($0)" } ?? ""))
            } else if !s.restoring, !s.rebuilding, now - s.progressAt >= timeout {
                out.append("\(name): no progress for \((now - s.progressAt) / 1000) s")
            }
        }
        return out
    }

    /// Why the pipeline is not ready; empty when it is.
    package var notReadyReasons: [String] {
        var out: [String] = []
        if stopping.load(ordering: .relaxed) { out.append("stopping") }
        if !reachable.load(ordering: .relaxed) { out.append("cluster unreachable") }
        if !joined.load(ordering: .relaxed) { out.append("no partition assignment yet") }
        for (name, s) in stages.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            if s.rebuilding { out.append("\(name) is being rebuilt") }
            if s.restoring { out.append("\(name) is restoring its state") }
        }
        return out
    }

    func setJoined(_ value: Bool) { joined.store(value, ordering: .relaxed) }
    func setReachable(_ value: Bool) { reachable.store(value, ordering: .relaxed) }
    func setStopping() { stopping.store(true, ordering: .relaxed) }
    /// The pipeline thread ended (stopped or failed).
    func setDead() { alive.store(false, ordering: .relaxed) }
    func setStallTimeout(millis: Int64) { stallTimeout.store(millis, ordering: .relaxed) }

    /// A stage instance started running (the first, or one rebuilt).
    func stageStarted(_ name: String) {
        let now = clock()
        stages.withLock {
            $0[name, default: StageHealth(progressAt: now)].rebuilding = false
            $0[name]!.progressAt = now
        }
    }

    /// The stage moved: it handled input, or had none waiting.
    func stageProgressed(_ name: String) {
        let now = clock()
        stages.withLock { $0[name]?.progressAt = now }
    }

    /// The stage broke, for `reason`, and is being rebuilt from its changelog.
    func stageBroke(_ name: String, reason: String? = nil) {
        let now = clock()
        stages.withLock {
            $0[name, default: StageHealth(progressAt: now)].rebuilding = true
            $0[name]!.failedRebuilds += 1
            $0[name]!.lastFailure = reason
        }
    }

    /// A commit of the stage went through.
    func stageCommitted(_ name: String) {
        stages.withLock {
            $0[name]?.failedRebuilds = 0
            $0[name]?.lastFailure = nil
        }
    }

    func stageRestoring(_ name: String, _ restoring: Bool) {
        let now = clock()
        stages.withLock {
            $0[name, default: StageHealth(progressAt: now)].restoring = restoring
            // Restoring is not stalling: the clock starts again when it ends.
            if !restoring { $0[name]!.progressAt = now }
        }
    }
}
