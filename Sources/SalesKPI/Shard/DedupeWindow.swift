/// Event ids seen recently, for dropping re-sent events (SPEC §2: at least the allowed lateness).
///
/// Ids are also grouped by minute of event time, which is the unit the changelog stores and
/// the unit in which old ids are forgotten.
package struct DedupeWindow: Sendable {
    private var seen: [String: EpochMillis] = [:]
    /// Ids by minute, in arrival order: an id enters only when `seen` did not have it, so a
    /// bucket never repeats one and needs no hashing of its own.
    private var buckets: [Int64: [String]] = [:]
    /// Buckets changed since the last `takeChanges()`.
    private var changed: Set<Int64> = []
    /// The bucket last marked changed (events come in runs of the same minute).
    private var lastChanged: Int64?
    private var sizeAtLastPrune = 0

    package init() {}

    package var count: Int { seen.count }

    static func bucket(_ t: EpochMillis) -> Int64 { Timestamp.floorDiv(t, 60_000) }

    package func contains(_ id: String) -> Bool { seen[id] != nil }

    /// Records the id; false when it was already there.
    package mutating func insert(_ id: String, at time: EpochMillis) -> Bool {
        guard seen.updateValue(time, forKey: id) == nil else { return false }
        let b = Self.bucket(time)
        buckets[b, default: []].append(id)
        if b != lastChanged {
            changed.insert(b)
            lastChanged = b
        }
        return true
    }

    /// Forgets ids of events older than `horizon`; cheap to call often, it only scans when the set
    /// has doubled since the last scan.
    package mutating func prune(olderThan horizon: EpochMillis) {
        guard seen.count >= max(1024, 2 * sizeAtLastPrune) else { return }
        let limit = Self.bucket(horizon)
        for (b, ids) in buckets where b < limit {
            for id in ids { seen[id] = nil }
            buckets[b] = nil
            changed.insert(b)
        }
        lastChanged = nil
        sizeAtLastPrune = seen.count
    }

    /// Changed buckets since the last call: the ids of each, or nil when it was forgotten.
    package mutating func takeChanges() -> [(bucket: Int64, ids: [String]?)] {
        defer {
            changed.removeAll()
            lastChanged = nil
        }
        return changed.sorted().map { ($0, buckets[$0].map { $0.sorted() }) }
    }

    /// Restores one bucket from the changelog.
    package mutating func restore(bucket: Int64, ids: [String]) {
        buckets[bucket] = ids
        for id in ids { seen[id] = bucket * 60_000 }
    }
}
