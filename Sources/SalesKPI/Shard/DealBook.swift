/// The counted outcome (won or lost) of each deal, so a deal counts at most once: the event with
/// the latest `occurred_at` counts and earlier ones are retracted (SPEC §2).
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

    private var outcomes: [Key: Outcome] = [:]
    /// Keys changed since the last `takeChanges()`.
    private var changed: Set<Key> = []

    package init() {}

    package var count: Int { outcomes.count }

    package mutating func record(_ key: Key, _ outcome: Outcome) -> Decision {
        guard let existing = outcomes[key] else {
            outcomes[key] = outcome
            changed.insert(key)
            return .count
        }
        guard outcome.supersedes(existing) else { return .superseded }
        outcomes[key] = outcome
        changed.insert(key)
        return .replace(existing)
    }

    /// Forgets outcomes whose windows have all closed; they can no longer be retracted.
    package mutating func prune(olderThan horizon: EpochMillis) {
        for (key, outcome) in outcomes where outcome.occurredAt < horizon {
            outcomes[key] = nil
            changed.insert(key)
        }
    }

    /// Changed keys since the last call, with their outcome or nil when forgotten.
    package mutating func takeChanges() -> [(Key, Outcome?)] {
        defer { changed.removeAll() }
        return changed.map { ($0, outcomes[$0]) }
    }

    package mutating func restore(_ key: Key, _ outcome: Outcome) { outcomes[key] = outcome }
}
