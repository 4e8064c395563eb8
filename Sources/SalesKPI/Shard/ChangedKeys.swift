/// Keys changed since the last changelog flush, each once, in the order they first changed.
///
/// Insertion order is as deterministic as a sort for the same input, and costs nothing at the
/// flush: sorting every changed final window by its scope's strings was a tenth of a backfill's
/// domain work (scripts/bench.sh, shard).
struct ChangedKeys<Key: Hashable & Sendable>: Sendable {
    private var members: Set<Key> = []
    private(set) var ordered: [Key] = []

    var isEmpty: Bool { ordered.isEmpty }

    mutating func insert(_ key: Key) {
        if members.insert(key).inserted { ordered.append(key) }
    }

    /// The keys in first-change order, leaving none.
    mutating func take() -> [Key] {
        defer {
            members.removeAll(keepingCapacity: true)
            ordered.removeAll(keepingCapacity: true)
        }
        return ordered
    }
}
