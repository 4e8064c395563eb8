/// The counted outcome (won or lost) of each deal, so a deal counts at most once: the event with
/// the latest `occurred_at` counts and earlier ones are retracted (docs/kpis.md, a deal counts once).
///
/// For the changelog the outcomes come in parts: a chunk holds the outcomes recorded between two
/// flushes, written once and deleted once none of them is current any more (replaced by a later
/// outcome, or forgotten). A record per outcome would cost more than the event it came from.
package struct DealBook: Sendable, Equatable {
    package struct Key: Hashable, Sendable, Codable {
        package var region: String
        package var dealId: String
    }

    package struct Outcome: Sendable, Equatable, Codable {
        package var occurredAt: EpochMillis
        package var eventId: String
        package var rep: String
        package var amount: Money
        package var cycleMillis: Int64

        /// Later time wins; equal times are broken by event id so every replay picks the same one.
        func supersedes(_ other: Outcome) -> Bool {
            (occurredAt, eventId) > (other.occurredAt, other.eventId)
        }
    }

    package enum Decision: Sendable, Equatable {
        /// First outcome of this deal: count it.
        case count
        /// Replaces an earlier outcome, which must be retracted.
        case replace(Outcome)
        /// An earlier outcome than the one already counted: ignore it.
        case superseded
    }

    package enum Part: Hashable, Sendable {
        /// The outcomes recorded in one flush interval, numbered in order.
        case chunk(Int64)
    }

    struct Entry: Equatable, Sendable {
        var outcome: Outcome
        /// The chunk it was written in, or `unwritten` until the next flush. A number with a
        /// sentinel rather than an optional `Part`: the optional's tag byte rounds every slot
        /// of the table up by 8 bytes (scripts/bench.sh, state).
        var chunk: Int64 = Entry.unwritten

        static let unwritten: Int64 = -1
        /// What a removed slot of the table holds (`DealTable`).
        static let removed = Entry(
            outcome: Outcome(occurredAt: .min, eventId: "", rep: "", amount: .zero, cycleMillis: 0))

        var part: Part? { chunk == Self.unwritten ? nil : .chunk(chunk) }
    }

    private var outcomes = DealTable()
    /// Slots by day of their outcome's event time (a slot may also linger under the day of an
    /// outcome since replaced, or of a key since removed), so pruning visits only the days it
    /// forgets: scanning every outcome once per day of event time was a tenth of a backfill's work.
    private var byDay: [Int64: [Int32]] = [:]
    /// Current outcomes per written part: a part with none left is deleted.
    private var live: [Part: Int] = [:]
    /// Slots recorded since the last `takeChanges()` (a slot may repeat).
    private var pending: [Int32] = []
    /// Parts with nothing current left since the last `takeChanges()`.
    private var removed: [Part] = []
    private var nextChunk: Int64 = 0

    package init() {}

    package var count: Int { outcomes.count }

    package mutating func record(_ key: Key, _ outcome: Outcome) -> Decision {
        guard let s = outcomes.find(key) else {
            pending.append(add(key, Entry(outcome: outcome)))
            return .count
        }
        let existing = outcomes[s].entry
        guard outcome.supersedes(existing.outcome) else { return .superseded }
        if let part = existing.part { release(part) }
        replace(s, Entry(outcome: outcome))
        pending.append(s)
        return .replace(existing.outcome)
    }

    private static func day(_ t: EpochMillis) -> Int64 { Timestamp.floorDiv(t, Timestamp.millisPerDay) }

    private mutating func add(_ key: Key, _ entry: Entry) -> Int32 {
        let s = outcomes.insert(key, entry)
        byDay[Self.day(entry.outcome.occurredAt), default: []].append(s)
        return s
    }

    private mutating func replace(_ s: Int32, _ entry: Entry) {
        let day = Self.day(entry.outcome.occurredAt)
        let before = outcomes.modify(s) { current in
            defer { current = entry }
            return Self.day(current.outcome.occurredAt)
        }
        if before != day { byDay[day, default: []].append(s) }
    }

    private mutating func release(_ part: Part) {
        let left = (live[part] ?? 1) - 1
        if left > 0 {
            live[part] = left
        } else {
            live[part] = nil
            removed.append(part)
        }
    }

    /// Forgets outcomes whose windows have all closed; they can no longer be retracted.
    package mutating func prune(olderThan horizon: EpochMillis) {
        let last = Self.day(horizon)
        for day in byDay.keys.filter({ $0 <= last }) {
            var kept: [Int32] = []
            for s in byDay.removeValue(forKey: day) ?? [] {
                // Removed already, or current under another day: nothing to do here.
                guard outcomes[s].isLive, Self.day(outcomes[s].entry.outcome.occurredAt) == day else { continue }
                if outcomes[s].entry.outcome.occurredAt < horizon {
                    let part = outcomes[s].entry.part
                    outcomes.remove(s)
                    if let part { release(part) }
                } else {
                    kept.append(s)
                }
            }
            if !kept.isEmpty { byDay[day] = kept }
        }
    }

    /// A chunk is closed at about this many bytes of outcomes (see `DedupeWindow.chunkBytes`).
    package static let chunkBytes = 256 * 1024

    /// What to write since the last call: parts to delete, then chunks of the new outcomes.
    package mutating func takeChanges() -> (removed: [Part], written: [(part: Part, outcomes: [(Key, Outcome)])]) {
        defer {
            pending.removeAll()
            removed.removeAll()
        }
        var written: [(part: Part, outcomes: [(Key, Outcome)])] = []
        var chunk: [(Key, Outcome)] = []
        var bytes = 0
        func close() {
            guard !chunk.isEmpty else { return }
            let part = Part.chunk(nextChunk)
            nextChunk += 1
            live[part] = chunk.count
            written.append((part, chunk))
            chunk = []
            bytes = 0
        }
        for s in pending {
            // Written once, with its latest outcome; removed, or already taken, otherwise.
            guard outcomes[s].isLive, outcomes[s].entry.part == nil else { continue }
            let n = nextChunk
            outcomes.modify(s) { $0.chunk = n }
            let (key, outcome) = (outcomes[s].key, outcomes[s].entry.outcome)
            chunk.append((key, outcome))
            bytes +=
                key.region.utf8.count + key.dealId.utf8.count + outcome.eventId.utf8.count + outcome.rep.utf8.count + 32
            if bytes >= Self.chunkBytes { close() }
        }
        close()
        return (removed, written)
    }

    /// Restores one part from the changelog, in any order: an outcome superseded by one from
    /// another part is not current, and a part left with none current is deleted at the next flush.
    package mutating func restore(_ part: Part, _ entries: [(Key, Outcome)]) {
        // Chunks are numbered from 0: a negative number is a damaged key, skipped as the
        // changelog reader skips a key it cannot parse.
        guard case .chunk(let n) = part, n >= 0 else { return }
        nextChunk = max(nextChunk, n + 1)
        var current = 0
        for (key, outcome) in entries {
            if let s = outcomes.find(key) {
                let existing = outcomes[s].entry
                guard outcome.supersedes(existing.outcome) else { continue }
                if let other = existing.part { release(other) }
                replace(s, Entry(outcome: outcome, chunk: n))
            } else {
                _ = add(key, Entry(outcome: outcome, chunk: n))
            }
            current += 1
        }
        if current > 0 {
            live[part, default: 0] += current
        } else {
            removed.append(part)
        }
    }

    /// The current outcomes by key.
    private var current: [Key: Outcome] {
        var out: [Key: Outcome] = [:]
        for slot in outcomes.slots where slot.isLive { out[slot.key] = slot.entry.outcome }
        return out
    }

    package static func == (a: DealBook, b: DealBook) -> Bool { a.current == b.current }
}
