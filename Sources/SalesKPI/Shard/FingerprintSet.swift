/// A set of event fingerprints: open addressing with linear probing over a power-of-two array,
/// at most three quarters full (as Swift's own `Set`), a removal shifting the probe chain back
/// instead of leaving a tombstone. A fingerprint is already a keyed random hash, so its low bits
/// are its bucket: nothing is hashed to insert, find or remove one.
///
/// Beside each 16-byte slot, a byte tag: 0 for empty, else 7 more bits of the fingerprint. A new
/// id (most inserts) is told absent from the tags alone, a sixteenth of the slots' bytes: read
/// first, the slots missed the cache on almost every insert (91 % of `insert`'s samples were the
/// load of its home slot, scripts/bench.sh shard).
struct FingerprintSet: Sendable {
    private var slots = [EventFingerprint](repeating: .empty, count: 16)
    private var tags = [UInt8](repeating: 0, count: 16)
    private(set) var count = 0

    private var mask: Int { slots.count - 1 }

    private func home(_ f: EventFingerprint) -> Int { Int(truncatingIfNeeded: f.low) & mask }

    private static func tag(_ f: EventFingerprint) -> UInt8 { 0x80 | UInt8(truncatingIfNeeded: f.high >> 57) }

    func contains(_ f: EventFingerprint) -> Bool { bucket(of: f) != nil }

    /// Adds `f`; false when it was there already.
    mutating func insert(_ f: EventFingerprint) -> Bool {
        if (count + 1) * 4 > slots.count * 3 { grow() }
        let tag = Self.tag(f)
        var b = home(f)
        while tags[b] != 0 {
            if tags[b] == tag && slots[b] == f { return false }
            b = (b + 1) & mask
        }
        slots[b] = f
        tags[b] = tag
        count += 1
        return true
    }

    /// Removes `f` if it is there.
    mutating func remove(_ f: EventFingerprint) {
        guard var hole = bucket(of: f) else { return }
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
        slots[hole] = .empty
        tags[hole] = 0
        count -= 1
    }

    private func bucket(of f: EventFingerprint) -> Int? {
        let tag = Self.tag(f)
        var b = home(f)
        while tags[b] != 0 {
            if tags[b] == tag && slots[b] == f { return b }
            b = (b + 1) & mask
        }
        return nil
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: .empty, count: old.count * 2)
        tags = Array(repeating: 0, count: old.count * 2)
        for f in old where f != .empty {
            var b = home(f)
            while tags[b] != 0 { b = (b + 1) & mask }
            slots[b] = f
            tags[b] = Self.tag(f)
        }
    }
}
