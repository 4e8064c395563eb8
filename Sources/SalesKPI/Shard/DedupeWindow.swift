/// Event ids seen recently, for dropping re-sent events (docs/kpis.md, duplicates: at least the allowed lateness).
/// It keeps their fingerprints (`EventFingerprint`); the ids themselves only until they are
/// written to the changelog.
///
/// For the changelog the ids come in parts: a chunk holds the ids first seen between two
/// flushes, written once and deleted when all of its events are older than the horizon. (Parts
/// by minute of event time would cost a record per one or two events in a backfill that runs
/// days of event time per second.)
package struct DedupeWindow: Sendable {
    package enum Part: Hashable, Sendable {
        /// The ids first seen in one flush interval, numbered in order.
        case chunk(Int64)
    }

    package enum Change: Equatable, Sendable {
        case written(Part, newest: EpochMillis, ids: [String])
        case removed(Part)
    }

    private struct Stored {
        var part: Part
        var newest: EpochMillis
        var prints: [EventFingerprint]
    }

    private let key = SipHash128.randomKey()
    private var seen = FingerprintSet()
    /// Written parts, oldest first.
    private var stored: [Stored] = []
    /// Ids first seen since the last `takeChanges()`, with the latest of their event times.
    /// Their fingerprints are computed again when they are written: keeping them here too would
    /// cost 16 bytes an id until the flush, the hash costs about 0.2 % of the domain work.
    private var pending: [String] = []
    private var pendingNewest: EpochMillis = .min
    /// Parts forgotten since the last `takeChanges()`.
    private var removed: [Part] = []
    private var nextChunk: Int64 = 0

    package init() {}

    package var count: Int { seen.count }

    package func contains(_ id: String) -> Bool { seen.contains(EventFingerprint(of: id, key: key)) }

    /// Records the id; false when it was already there.
    package mutating func insert(_ id: String, at time: EpochMillis) -> Bool {
        let print = EventFingerprint(of: id, key: key)
        guard seen.insert(print) else { return false }
        pending.append(id)
        pendingNewest = max(pendingNewest, time)
        return true
    }

    /// Forgets the written parts whose events are all older than `horizon` (ids not written yet
    /// are recent; they go with their part later).
    package mutating func prune(olderThan horizon: EpochMillis) {
        guard stored.contains(where: { $0.newest < horizon }) else { return }
        var kept: [Stored] = []
        for part in stored {
            if part.newest < horizon {
                for print in part.prints { seen.remove(print) }
                removed.append(part.part)
            } else {
                kept.append(part)
            }
        }
        stored = kept
    }

    /// A chunk is closed at about this many bytes of ids, so one record stays far below a
    /// broker's message size limit however many events one flush interval saw.
    package static let chunkBytes = 256 * 1024

    /// What to write since the last call: forgotten parts, then chunks of the new ids.
    package mutating func takeChanges() -> [Change] {
        var out = removed.map(Change.removed)
        removed.removeAll()
        var from = 0
        var bytes = 0
        for k in pending.indices {
            bytes += pending[k].utf8.count + 2
            if bytes >= Self.chunkBytes || k == pending.count - 1 {
                let part = Part.chunk(nextChunk)
                nextChunk += 1
                let ids = Array(pending[from...k])
                let prints = ids.map { EventFingerprint(of: $0, key: key) }
                // The newest of the whole interval: a little later than this chunk's own, at worst.
                stored.append(Stored(part: part, newest: pendingNewest, prints: prints))
                out.append(.written(part, newest: pendingNewest, ids: ids))
                from = k + 1
                bytes = 0
            }
        }
        pending.removeAll()
        pendingNewest = .min
        return out
    }

    /// Restores one part from the changelog; `newest` is the latest event time it covers.
    package mutating func restore(_ part: Part, newest: EpochMillis, ids: [String]) {
        let prints = ids.map { EventFingerprint(of: $0, key: key) }
        stored.append(Stored(part: part, newest: newest, prints: prints))
        for print in prints { _ = seen.insert(print) }
        if case .chunk(let n) = part { nextChunk = max(nextChunk, n + 1) }
    }
}
