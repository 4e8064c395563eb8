/// Where each scope of one kind (region or rep) of a `ScopeTable` sits in its arrays, found by
/// key. The few region scopes have an index of their own, small enough to stay in cache: with
/// the reps' in one index, every event's region was found in the large one, and the shard bench
/// ran about 3 % slower (scripts/bench.sh, shard).
///
/// Open addressing with linear probing over a power-of-two array of 4-byte indices, at most half
/// full, the keys themselves read from the table's `keys`. A `[String: Int]` of rep ids per
/// region held a copy of each id and its index in buckets at most three quarters full: about 63
/// bytes a rep scope, against 8 to 16 here; state per aggregate fell from 236 bytes to 216
/// (scripts/bench.sh, state).
///
/// A rep's hash is built on its region's, so an event's two scopes hash the region once and the
/// rep once, as the dictionaries did. Growing hashes every key again: scopes are added rarely.
struct ScopeIndex: Sendable {
    let kind: ScopeKey.Kind
    /// Scope indices plus one; 0 is empty.
    private var buckets = [Int32](repeating: 0, count: 16)
    private var count = 0

    private var mask: Int { buckets.count - 1 }

    /// The hash of a region scope, and the first step of its reps' hashes.
    static func regionHash(_ region: String) -> Int {
        var h = Hasher()
        h.combine(region)
        return h.finalize()
    }

    static func repHash(_ rep: String, regionHash: Int) -> Int {
        var h = Hasher()
        h.combine(regionHash)
        h.combine(rep)
        return h.finalize()
    }

    /// The hash of a region or rep scope.
    static func hash(_ key: ScopeKey) -> Int {
        let region = regionHash(key.region)
        return key.kind == .rep ? repHash(key.rep, regionHash: region) : region
    }

    /// The index under `hash` whose key in `keys` satisfies `matches`.
    func find(_ hash: Int, _ keys: [ScopeKey], _ matches: (ScopeKey) -> Bool) -> Int? {
        var b = hash & mask
        while buckets[b] != 0 {
            let i = Int(buckets[b] - 1)
            if matches(keys[i]) { return i }
            b = (b + 1) & mask
        }
        return nil
    }

    /// Adds index `i`, whose key is `keys[i]` (already appended, of this kind) and not indexed yet.
    mutating func insert(_ i: Int, _ keys: [ScopeKey]) {
        count += 1
        if count * 2 > buckets.count {
            rebuild(keys, capacity: buckets.count * 2)
        } else {
            place(i, Self.hash(keys[i]))
        }
    }

    /// An index of the scopes of `kind` in `keys`.
    init(_ kind: ScopeKey.Kind, _ keys: [ScopeKey] = []) {
        self.kind = kind
        count = keys.count { $0.kind == kind }
        var capacity = 16
        while count * 2 > capacity { capacity *= 2 }
        rebuild(keys, capacity: capacity)
    }

    private mutating func rebuild(_ keys: [ScopeKey], capacity: Int) {
        buckets = Array(repeating: 0, count: capacity)
        for i in keys.indices where keys[i].kind == kind { place(i, Self.hash(keys[i])) }
    }

    private mutating func place(_ i: Int, _ hash: Int) {
        var b = hash & mask
        while buckets[b] != 0 { b = (b + 1) & mask }
        buckets[b] = Int32(i + 1)
    }
}
