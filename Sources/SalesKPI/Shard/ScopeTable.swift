/// The shard's scopes interned to dense indices: an event's scope keys are hashed once, when
/// the event arrives, and every window update after that reaches the state by array index, in
/// place (a dictionary of states was hashed twice per update and copied in and out).
struct ScopeTable: Sendable {
    private var regionIndex = ScopeIndex(.region)
    private var repIndex = ScopeIndex(.rep)
    /// Rep scopes per region, for `KPISettings.maxRepsPerRegion`: asked only of a new rep.
    private var repCounts: [String: Int] = [:]
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
    func repCount(in region: String) -> Int { repCounts[region] ?? 0 }

    func find(_ key: ScopeKey) -> Int? {
        switch key.kind {
        case .region: regionIndex.find(ScopeIndex.hash(key), keys) { $0 == key }
        case .rep: repIndex.find(ScopeIndex.hash(key), keys) { $0 == key }
        case .company: company
        }
    }

    /// The indices of an event's region scope and rep scope, where interned, hashing the region
    /// once.
    func find(region: String, rep: String?) -> (region: Int?, rep: Int?) {
        let hash = ScopeIndex.regionHash(region)
        let regionScope = regionIndex.find(hash, keys) { $0.region == region }
        guard let rep else { return (regionScope, nil) }
        let repScope = repIndex.find(ScopeIndex.repHash(rep, regionHash: hash), keys) {
            $0.rep == rep && $0.region == region
        }
        return (regionScope, repScope)
    }

    /// The index of `key`, adding it with empty state when it is new.
    mutating func intern(_ key: ScopeKey) -> (index: Int, isNew: Bool) {
        if let i = find(key) { return (i, false) }
        let i = keys.count
        keys.append(key)
        tally(key)
        switch key.kind {
        case .region: regionIndex.insert(i, keys)
        case .rep: repIndex.insert(i, keys)
        case .company: company = i
        }
        var state = ScopeState()
        state.dirty = false
        states.append(state)
        rank.removeAll()
        return (i, true)
    }

    private mutating func tally(_ key: ScopeKey) {
        switch key.kind {
        case .region: regionCount += 1
        case .rep: repCounts[key.region, default: 0] += 1
        case .company: break
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
        repCounts.removeAll(keepingCapacity: true)
        company = nil
        regionCount = 0
        for i in keys.indices {
            guard doomed.contains(i) else {
                if keys[i].kind == .company { company = keptKeys.count }
                tally(keys[i])
                keptKeys.append(keys[i])
                keptStates.append(states[i])
                continue
            }
            removed.append(keys[i])
        }
        rank.removeAll()
        keys = keptKeys
        states = keptStates
        regionIndex = ScopeIndex(.region, keys)
        repIndex = ScopeIndex(.rep, keys)
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
