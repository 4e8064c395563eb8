import Kafka
import SalesKPI

/// What one kind of stage does with its input; its `StageRunner` owns the loop around it (poll,
/// tick, commit, rebalance, the poison hunt) and calls these from the one thread that owns both.
/// The stage reaches Kafka only through `io`: what it sends, dead-letters and counts.
protocol Stage: AnyObject {
    var io: StageIO { get }
    /// Messages to take in the next poll (`poll_batch` at most): a stage whose messages each hold
    /// many events takes fewer, so one poll stays short and commits, ticks and revocations are
    /// not held up behind it.
    var pollLimit: Int { get }
    /// The runner is about to poll for the first time.
    func started()
    /// A poll's whole batch, before its messages are taken one by one; `delivered` follows once
    /// they all have been, before they are freed.
    func polled(_ batch: PolledBatch)
    func take(_ message: ConsumedMessage)
    func delivered()
    /// Moves past a record without taking it (the next commit stores the offset after it).
    func skip(_ message: ConsumedMessage)
    /// Dead-letters a record the stage cannot get past.
    func unprocessable(_ message: ConsumedMessage, detail: String)
    func afterPoll(now: EpochMillis)
    /// About every 100 ms of wall clock.
    func tick(now: EpochMillis)
    /// In a bounded run: every source of what the stage owns has ended and everything it holds
    /// is out, so the next commit leaves nothing behind.
    func isFinished() -> Bool
    /// Writes what must be durable with the commit; returns the input offsets to commit.
    func prepareCommit() -> [TopicPartition: Int64]
    /// The commit went through (what it covered is durable), or failed for good (what was sent
    /// since the last commit may never arrive, and the rebuilt stage sends it again).
    func transactionEnded(committed: Bool)
    /// New partitions (eager: the whole new assignment); returns start offsets that override the
    /// committed ones.
    func assigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64]
    /// Before the revoke is committed: apply whatever is still buffered for these partitions.
    func revoking(_ partitions: [TopicPartition])
    /// After the commit: drop the partitions' state.
    func revoked(_ partitions: [TopicPartition])
    /// Shutdown: apply everything still buffered.
    func drainAll()
    /// The counters were just published: report what the stage knows of its lag.
    func reportLag()
}

extension Stage {
    var pollLimit: Int { io.config.worker.processing.pollBatch }
    func started() {}
    func polled(_ batch: PolledBatch) {}
    func delivered() {}
    /// By default the record itself.
    func unprocessable(_ message: ConsumedMessage, detail: String) {
        io.deadLetterUnprocessable(message, detail: detail)
    }
    func afterPoll(now: EpochMillis) {}
    func tick(now: EpochMillis) {}
    func isFinished() -> Bool { false }
    func transactionEnded(committed: Bool) {}
    func assigned(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] { [:] }
    func revoking(_ partitions: [TopicPartition]) {}
    func revoked(_ partitions: [TopicPartition]) {}
    func drainAll() {}
    func reportLag() {}
}

/// The three kinds of stage, and what each reads in which consumer group.
enum StageKind {
    case route, aggregate, rollup

    var name: String {
        switch self {
        case .route: "route"
        case .aggregate: "aggregate"
        case .rollup: "rollup"
        }
    }

    /// The aggregate stage reads the route stage's internal topic, or the input topics (keyed by
    /// region) when the route stage is skipped.
    func inputs(_ worker: WorkerConfig) -> [String] {
        let t = worker.topics
        switch self {
        case .route: return t.inputs
        case .aggregate: return worker.processing.routeStage ? [t.internal] : t.inputs
        case .rollup: return [t.rollup]
        }
    }

    func groupId(_ worker: WorkerConfig) -> String {
        switch self {
        case .route: worker.kafka.groupId + ".route"
        case .aggregate: worker.kafka.groupId
        case .rollup: worker.kafka.groupId + ".rollup"
        }
    }
}
