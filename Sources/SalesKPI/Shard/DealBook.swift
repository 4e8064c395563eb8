/// The counted outcome (won or lost) of each deal, so a deal counts at most once: the event with
/// the latest `occurred_at` counts and earlier ones are retracted (SPEC §2).
package struct DealBook: Sendable, Equatable {
    package struct Key: Hashable, Sendable {
        package var region: String
        package var dealId: String
    }

    package struct Outcome: Sendable, Equatable {
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

    package init() {}

    package var count: Int { outcomes.count }

    package mutating func record(_ key: Key, _ outcome: Outcome) -> Decision {
        guard let existing = outcomes[key] else {
            outcomes[key] = outcome
            return .count
        }
        guard outcome.supersedes(existing) else { return .superseded }
        outcomes[key] = outcome
        return .replace(existing)
    }

    /// Forgets outcomes whose windows have all closed; they can no longer be retracted.
    package mutating func prune(olderThan horizon: EpochMillis) {
        outcomes = outcomes.filter { $0.value.occurredAt >= horizon }
    }
}
