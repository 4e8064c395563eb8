import Kafka

/// Finds the input record that keeps a stage from committing, so the stage can move past it
/// (docs/guarantees.md, bad input).
///
/// Only failures whose error is about a record's content count (`KafkaError.concernsRecord`:
/// too large, invalid, refused by policy); an unreachable or overloaded cluster never makes a
/// record a suspect. After `rebuildsBeforeIsolation` such rebuilds in a row the stage takes one
/// input record per transaction; the record whose transaction then fails that way is
/// dead-lettered as `unprocessable` when the rebuilt stage reads it again. Owned by the thread
/// that rebuilds the stage, across its instances.
struct PoisonHunt {
    struct Position: Hashable, Sendable {
        var source: TopicPartition
        var offset: Int64
    }

    /// What one run of a stage instance tells the hunt when it ends.
    struct RunReport {
        /// Why the run broke (nil: it stopped cleanly).
        var failure: KafkaError?
        /// Commits that covered input records.
        var inputCommits = 0
        /// The one input record of the transaction that failed, when it held exactly one.
        var failedAlone: Position?
        /// Condemned records dead-lettered and committed past.
        var condemnedCommitted: Set<Position> = []
    }

    static let rebuildsBeforeIsolation = 3
    /// One-record commits after which isolation ends without a culprit: what failed was not a
    /// record after all.
    static let isolatedCommitsToGiveUp = 1_000

    /// Rebuilds in a row caused by an error about a record's content.
    private(set) var recordFailures = 0
    /// Records to dead-letter when read, with the error that condemned them.
    private(set) var condemned: [Position: KafkaError] = [:]
    private var isolatedCommits = 0

    var isolating: Bool { recordFailures >= Self.rebuildsBeforeIsolation }

    mutating func runEnded(_ run: RunReport) {
        for p in run.condemnedCommitted { condemned[p] = nil }
        if isolating {
            isolatedCommits += run.inputCommits
            if !run.condemnedCommitted.isEmpty || isolatedCommits >= Self.isolatedCommitsToGiveUp {
                recordFailures = 0
                isolatedCommits = 0
            }
        } else if run.inputCommits > 0 {
            recordFailures = 0
        }
        guard let failure = run.failure, failure.concernsRecord else { return }
        if isolating, let culprit = run.failedAlone {
            condemned[culprit] = failure
        } else if !isolating {
            recordFailures += 1
        }
    }
}
