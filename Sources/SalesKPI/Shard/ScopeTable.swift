/// The shard's scopes interned to dense indices: an event's scope keys are hashed once, when
/// the event arrives, and every window update after that reaches the state by array index, in
/// place (a dictionary of states was hashed twice per update and copied in and out).
struct ScopeTable: Sendable {
    /// A region's scope and its reps' scopes. Looked up by region name, then by rep id: an
    /// event's region and rep strings are hashed once each (a table keyed by `ScopeKey` hashed
    /// the region again, with the rep, for the rep's scope).
    private struct RegionScopes {
        /// nil while only reps of the region are interned (a restore reads scopes in any order).
        var index: Int?
        var reps: [String: Int] = [:]
    }

    private var regions: [String: RegionScopes] = [:]
    private var company: Int?
    private(set) var keys: [ScopeKey] = []
    /// By index; a new scope starts empty and clean (nothing for the changelog yet).
    var states: [ScopeState] = []
    private(set) var regionCount = 0
    /// Each index's place in key order, or empty when a scope came or went since it was built:
    /// the scopes of a shard change rarely, and sorting indices by their keys' strings at every
    /// window close and flush was a tenth of a backfill's domain work (scripts/bench.sh, shard).
    private var rank: [Int32] = []

    var count: Int { keys.count }

    /// Rep scopes of a region, for `KPISettings.maxRepsPerRegion`.
    func repCount(in region: String) -> Int { regions[region]?.reps.count ?? 0 }

    func find(_ key: ScopeKey) -> Int? {
        switch key.kind {
        case .region: regions[key.region]?.index
        case .rep: regions[key.region]?.reps[key.rep]
        case .company: company
        }
    }

    /// The indices of an event's region scope and rep scope, where interned, with one lookup
    /// of the region.
    func find(region: String, rep: String?) -> (region: Int?, rep: Int?) {
        guard let entry = regions[region] else { return (nil, nil) }
        return (entry.index, rep.flatMap { entry.reps[$0] })
    }

    /// The index of `key`, adding it with empty state when it is new.
    mutating func intern(_ key: ScopeKey) -> (index: Int, isNew: Bool) {
        if let i = find(key) { return (i, false) }
        let i = keys.count
        place(key, at: i)
        keys.append(key)
        var state = ScopeState()
        state.dirty = false
        states.append(state)
        rank.removeAll()
        return (i, true)
    }

    private mutating func place(_ key: ScopeKey, at i: Int) {
        switch key.kind {
        case .region:
            regions[key.region, default: RegionScopes()].index = i
            regionCount += 1
        case .rep: regions[key.region, default: RegionScopes()].reps[key.rep] = i
        case .company: company = i
        }
    }

    /// Drops the scopes at `doomed` and returns their keys. The indices of the others change:
    /// nobody holds one across calls into the shard.
    mutating func remove(_ doomed: Set<Int>) -> [ScopeKey] {
        guard !doomed.isEmpty else { return [] }
        var removed: [ScopeKey] = []
        var keptKeys: [ScopeKey] = []
        var keptStates: [ScopeState] = []
        keptKeys.reserveCapacity(keys.count - doomed.count)
        keptStates.reserveCapacity(keys.count - doomed.count)
        regions.removeAll(keepingCapacity: true)
        company = nil
        regionCount = 0
        for i in keys.indices {
            guard doomed.contains(i) else {
                place(keys[i], at: keptKeys.count)
                keptKeys.append(keys[i])
                keptStates.append(states[i])
                continue
            }
            removed.append(keys[i])
        }
        rank.removeAll()
        keys = keptKeys
        states = keptStates
        return removed
    }

    /// Indices sorted by key: the deterministic order of everything the shard emits or writes.
    mutating func sorted(_ indices: [Int]) -> [Int] {
        if rank.count != keys.count { rankKeys() }
        let rank = self.rank
        return indices.sorted { rank[$0] < rank[$1] }
    }

    private mutating func rankKeys() {
        let order = keys.withUnsafeBufferPointer { k in
            // Compared in place: copying keys out would retain and release their strings.
            keys.indices.sorted { a, b in
                if k[a].kind != k[b].kind { return k[a].kind < k[b].kind }
                if k[a].region != k[b].region { return k[a].region < k[b].region }
                return k[a].rep < k[b].rep
            }
        }
        rank = Array(repeating: 0, count: keys.count)
        for (place, i) in order.enumerated() { rank[i] = Int32(place) }
    }
}
