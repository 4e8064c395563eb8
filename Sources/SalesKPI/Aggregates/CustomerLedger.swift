/// Net customer changes of one scope over event time, so a new window can learn how many
/// customers were active at its start (S in docs/kpis.md).
///
/// Changes older than every window that could still be created are folded into one base count.
package struct CustomerLedger: Sendable, Equatable, Codable {
    /// Unfolded changes, sorted by time. (Before `base`, so a flag after the ledger packs.)
    private var changes: [(time: EpochMillis, delta: Int32)] = []
    /// Net customers of all folded changes.
    package private(set) var base: Int32 = 0

    package init() {}

    /// Entries not folded into the base yet.
    package var entryCount: Int { changes.count }

    private enum CodingKeys: String, CodingKey { case base, times, deltas }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        base = try c.decode(Int32.self, forKey: .base)
        let times = try c.decode([EpochMillis].self, forKey: .times)
        let deltas = try c.decode([Int32].self, forKey: .deltas)
        changes = zip(times, deltas).map { ($0, $1) }
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(base, forKey: .base)
        try c.encode(changes.map(\.time), forKey: .times)
        try c.encode(changes.map(\.delta), forKey: .deltas)
    }

    func write(to w: inout BinaryWriter) {
        w.int(base)
        w.count(changes.count)
        var previous: EpochMillis = 0
        for change in changes {
            // Sorted times: deltas between them are small varints.
            w.int(change.time &- previous)
            w.int(change.delta)
            previous = change.time
        }
    }

    init(reading r: inout BinaryReader) throws(BinaryReader.Malformed) {
        base = try r.int32()
        let n = try r.count()
        changes.reserveCapacity(n)
        var time: EpochMillis = 0
        for _ in 0..<n {
            time &+= try r.int()
            changes.append((time, try r.int32()))
        }
    }

    package static func == (a: CustomerLedger, b: CustomerLedger) -> Bool {
        a.base == b.base && a.changes.elementsEqual(b.changes) { $0.time == $1.time && $0.delta == $1.delta }
    }

    /// Adds a change; changes at the same time are kept as one.
    package mutating func record(at time: EpochMillis, delta: Int32) {
        // Events mostly come in time order: then it is the last entry or an append.
        if let last = changes.last, last.time == time {
            changes[changes.count - 1].delta += delta
            return
        }
        if changes.last.map({ $0.time < time }) ?? true { return changes.append((time, delta)) }
        let lo = changes.lowerBound { $0.time < time }
        if lo < changes.count, changes[lo].time == time {
            changes[lo].delta += delta
        } else {
            changes.insert((time, delta), at: lo)
        }
    }

    /// Net customers from all changes strictly before `time`.
    package func net(before time: EpochMillis) -> Int32 {
        var total = base
        for change in changes {
            if change.time >= time { break }
            total += change.delta
        }
        return total
    }

    /// Folds changes before `time` into the base; callers pass a time no new window can start before.
    package mutating func fold(before time: EpochMillis) {
        var k = 0
        while k < changes.count, changes[k].time < time {
            base += changes[k].delta
            k += 1
        }
        if k > 0 { changes.removeFirst(k) }
    }
}
