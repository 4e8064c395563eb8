/// Event ids seen recently, for dropping re-sent events (SPEC §2: at least the allowed lateness).
package struct DedupeWindow: Sendable, Equatable {
    private var seen: [String: EpochMillis] = [:]
    private var sizeAtLastPrune = 0

    package init() {}

    package var count: Int { seen.count }

    /// Records the id; false when it was already there.
    package mutating func insert(_ id: String, at time: EpochMillis) -> Bool {
        seen.updateValue(time, forKey: id) == nil
    }

    /// Forgets ids of events older than `horizon`; cheap to call often, it only scans when the set
    /// has doubled since the last scan.
    package mutating func prune(olderThan horizon: EpochMillis) {
        guard seen.count >= max(1024, 2 * sizeAtLastPrune) else { return }
        seen = seen.filter { $0.value >= horizon }
        sizeAtLastPrune = seen.count
    }
}
