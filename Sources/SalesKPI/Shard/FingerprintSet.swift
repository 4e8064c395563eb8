/// A set of event fingerprints: open addressing with linear probing over a power-of-two array,
/// at most three quarters full (as Swift's own `Set`), a removal shifting the probe chain back
/// instead of leaving a tombstone. A fingerprint is already a keyed random hash, so its low bits
/// are its bucket: nothing is hashed to insert, find or remove one.
///
/// Beside each 16-byte slot, a byte tag: 0 for empty, else 7 more bits of the fingerprint. A new
/// id (most inserts) is told absent from the tags alone, a sixteenth of the slots' bytes: read
/// first, the slots missed the cache on almost every insert (91 % of `insert`'s samples were the
/// load of its home slot, scripts/bench.sh shard). The tags alone say which buckets are empty,
/// so every fingerprint, all zeros too, can be stored.
struct FingerprintSet: Sendable {
    private static let unused = EventFingerprint(low: 0, high: 0)
    private var slots = [EventFingerprint](repeating: unused, count: 16)
    private var tags = [UInt8](repeating: 0, count: 16)
    private(set) var count = 0

    private var mask: Int { slots.count - 1 }

    private func home(_ f: EventFingerprint) -> Int { Int(truncatingIfNeeded: f.low) & mask }

    private static func tag(_ f: EventFingerprint) -> UInt8 { 0x80 | UInt8(truncatingIfNeeded: f.high >> 57) }

    func contains(_ f: EventFingerprint) -> Bool { probe(f).found }

    /// Adds `f`; false when it was there already.
    mutating func insert(_ f: EventFingerprint) -> Bool {
        if (count + 1) * 4 > slots.count * 3 { grow() }
        let (b, found) = probe(f)
        if found { return false }
        slots[b] = f
        tags[b] = Self.tag(f)
        count += 1
        return true
    }

    /// Removes `f` if it is there.
    mutating func remove(_ f: EventFingerprint) {
        var (hole, found) = probe(f)
        guard found else { return }
        // Backward shift: move each later member of the probe chain into the hole if its home
        // bucket does not lie between the hole and where it sits.
        var next = (hole + 1) & mask
        while tags[next] != 0 {
            let h = home(slots[next])
            if (next - h) & mask >= (next - hole) & mask {
                slots[hole] = slots[next]
                tags[hole] = tags[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        tags[hole] = 0
        count -= 1
    }

    /// The bucket holding `f`, or else the empty bucket that ends its probe chain.
    private func probe(_ f: EventFingerprint) -> (bucket: Int, found: Bool) {
        let tag = Self.tag(f)
        var b = home(f)
        while tags[b] != 0 {
            if tags[b] == tag && slots[b] == f { return (b, true) }
            b = (b + 1) & mask
        }
        return (b, false)
    }

    private mutating func grow() {
        let (old, oldTags) = (slots, tags)
        slots = Array(repeating: Self.unused, count: old.count * 2)
        tags = Array(repeating: 0, count: old.count * 2)
        for k in old.indices where oldTags[k] != 0 {
            let b = probe(old[k]).bucket
            slots[b] = old[k]
            tags[b] = oldTags[k]
        }
    }
}
