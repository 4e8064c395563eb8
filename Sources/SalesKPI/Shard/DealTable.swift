/// A hash table of `DealBook` entries, each under a slot number that stays its own until the
/// entry is removed, so the deal book's day index and pending list hold 4-byte slots instead of
/// copies of the key (two strings each), and reach an entry without hashing its key again.
///
/// Open addressing with linear probing over a power-of-two array of slot numbers, at most half
/// full; a removal shifts the probe chain back instead of leaving a tombstone. Each slot keeps
/// its key's hash, so growing the table never hashes a key again: resizing a `[Key: Entry]`
/// dictionary did, about 2 % of the shard bench's samples (scripts/bench.sh, shard).
struct DealTable: Sendable {
    typealias Entry = DealBook.Entry

    struct Slot: Sendable {
        var key: DealBook.Key
        var entry: Entry
        /// The key's hash with the sign bit cleared (no table is that large), or -1 for a
        /// removed slot waiting in `free` to be used again: a flag of its own would round the
        /// slot up by 8 bytes.
        var hash: Int

        var isLive: Bool { hash >= 0 }
    }

    private(set) var slots: [Slot] = []
    /// Slot numbers plus one; 0 is empty.
    private var buckets: [Int32] = Array(repeating: 0, count: 16)
    private var free: [Int32] = []
    private(set) var count = 0

    init() {}

    private var mask: Int { buckets.count - 1 }

    /// The slot holding `key`, if any.
    func find(_ key: DealBook.Key) -> Int32? {
        let hash = Self.hash(key)
        var b = hash & mask
        while buckets[b] != 0 {
            let s = buckets[b] - 1
            if slots[Int(s)].hash == hash && slots[Int(s)].key == key { return s }
            b = (b + 1) & mask
        }
        return nil
    }

    /// Stores `entry` under `key`, which must not be in the table; returns its slot.
    mutating func insert(_ key: DealBook.Key, _ entry: Entry) -> Int32 {
        if (count + 1) * 2 > buckets.count { grow() }
        let slot = Slot(key: key, entry: entry, hash: Self.hash(key))
        let s: Int32
        if let reused = free.popLast() {
            s = reused
            slots[Int(s)] = slot
        } else {
            s = Int32(slots.count)
            slots.append(slot)
        }
        place(s, hash: slot.hash)
        count += 1
        return s
    }

    /// Removes the entry in slot `s` (which must be live); the slot may be used again.
    mutating func remove(_ s: Int32) {
        var b = slots[Int(s)].hash & mask
        while buckets[b] != s + 1 { b = (b + 1) & mask }
        // Backward shift: move each later member of the probe chain into the hole if its home
        // bucket does not lie between the hole and where it sits.
        var hole = b
        var next = (hole + 1) & mask
        while buckets[next] != 0 {
            let home = slots[Int(buckets[next] - 1)].hash & mask
            if (next - home) & mask >= (next - hole) & mask {
                buckets[hole] = buckets[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        buckets[hole] = 0
        // Let go of the key's and entry's strings now, not when the slot is used again.
        slots[Int(s)] = Slot(key: DealBook.Key(region: "", dealId: ""), entry: .removed, hash: -1)
        free.append(s)
        count -= 1
    }

    subscript(s: Int32) -> Slot { slots[Int(s)] }

    /// The entry in slot `s`, changed in place.
    mutating func modify<R>(_ s: Int32, _ change: (inout Entry) -> R) -> R { change(&slots[Int(s)].entry) }

    private static func hash(_ key: DealBook.Key) -> Int { key.hashValue & Int.max }

    private mutating func place(_ s: Int32, hash: Int) {
        var b = hash & mask
        while buckets[b] != 0 { b = (b + 1) & mask }
        buckets[b] = s + 1
    }

    private mutating func grow() {
        buckets = Array(repeating: 0, count: buckets.count * 2)
        for s in slots.indices where slots[s].isLive { place(Int32(s), hash: slots[s].hash) }
    }
}
