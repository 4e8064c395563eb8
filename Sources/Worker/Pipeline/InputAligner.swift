import Kafka
import SalesKPI

/// Merges the input partitions in event-time order, as Kafka Streams does across a task's inputs.
///
/// Partitions of different topics are fetched in large, uneven chunks: read one after another,
/// a backlog of deals would push the watermark days past the spend events still waiting in
/// another partition, and those would all be dropped as late. So decoded events wait per
/// partition, and the earliest head is released only while every partition that may still hold
/// earlier data has something buffered or is known, from its leader, to hold nothing more.
struct InputAligner {
    struct Pending {
        /// Where the event was first read (for dead letters): the raw topic's coordinates.
        var source: TopicPartition
        var event: SalesEvent
        var offset: Int64
        /// Its offset in the lane it was consumed from (what commits are computed from).
        var position: Int64
        var key: [UInt8]?
        var raw: [UInt8]
        /// Monotonic nanoseconds when the message was taken off the consumer.
        var consumedAt: UInt64
        /// Wall-clock time of the poll that took it (for the idle allowance).
        var arrivedAt: EpochMillis = 0
    }

    private struct Lane {
        var items: [Pending] = []
        var head = 0
        /// Wall-clock time the lane last became empty while possibly behind.
        var emptySince: EpochMillis?
        var paused = false

        var count: Int { items.count - head }
        var first: Pending? { head < items.count ? items[head] : nil }

        mutating func push(_ item: Pending, pauseThreshold: Int) -> Bool {
            items.append(item)
            emptySince = nil
            let pause = !paused && count >= pauseThreshold
            if pause { paused = true }
            return pause
        }

        /// Takes the head; says whether a paused lane has drained enough to resume.
        mutating func release(now: EpochMillis, pauseThreshold: Int) -> (Pending, resume: Bool) {
            let item = removeFirst()
            var resume = false
            if paused, count <= pauseThreshold / 4 {
                paused = false
                resume = true
            }
            if count == 0 { emptySince = now }
            return (item, resume)
        }

        mutating func removeFirst() -> Pending {
            let item = items[head]
            head += 1
            if head > 1024, head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
            return item
        }
    }

    private var lanesByPartition: [TopicPartition: Lane] = [:]
    /// How long an empty lane known to be behind holds the others back, so a partition whose
    /// leader is gone cannot stop the rest for good.
    let maxBehindMillis: Int64 = 120_000
    /// Lanes the others stopped waiting for since the last `takeOverdue()`: their next events
    /// may arrive behind the watermark.
    private var overdue: Set<TopicPartition> = []

    mutating func takeOverdue() -> Set<TopicPartition> {
        defer { overdue.removeAll() }
        return overdue
    }
    /// A lane holding this many events is paused at the consumer until it drains to a quarter.
    let pauseThreshold: Int
    /// How long after its arrival an event still waits for caught-up empty lanes (0: not at all).
    let maxIdleMillis: Int64

    init(pauseThreshold: Int, maxIdleMillis: Int64 = 0) {
        self.pauseThreshold = pauseThreshold
        self.maxIdleMillis = maxIdleMillis
    }

    var buffered: Int { lanesByPartition.values.reduce(0) { $0 + $1.count } }

    var laneCount: Int { lanesByPartition.count }

    /// The partitions feeding this aligner.
    var lanes: [TopicPartition] { Array(lanesByPartition.keys) }

    mutating func assign(_ partitions: [TopicPartition], now: EpochMillis) {
        for tp in partitions where lanesByPartition[tp] == nil { lanesByPartition[tp] = Lane(emptySince: now) }
    }

    /// Drops revoked lanes and returns what they still held, so the caller can decide about it.
    mutating func revoke(_ partitions: [TopicPartition]) -> [Pending] {
        var left: [Pending] = []
        for tp in partitions {
            if var lane = lanesByPartition.removeValue(forKey: tp) {
                while lane.count > 0 { left.append(lane.removeFirst()) }
            }
        }
        return left
    }

    /// Buffers an event; returns true when the lane just crossed the pause threshold.
    mutating func push(_ tp: TopicPartition, _ item: Pending) -> Bool {
        // Mutated in place: a copied-out lane would copy its whole buffer on every push.
        lanesByPartition[tp, default: Lane()].push(item, pauseThreshold: pauseThreshold)
    }

    /// The lowest offset still buffered in a lane (nothing at or after it may be committed).
    func firstBufferedOffset(_ tp: TopicPartition) -> Int64? { lanesByPartition[tp]?.first?.position }

    /// Releases the earliest buffered event if no other partition could still deliver an earlier
    /// one. `caughtUp` tells whether an empty lane has read everything the broker holds (nil:
    /// the broker cannot say).
    mutating func next(now: EpochMillis, caughtUp: (TopicPartition) -> Bool?) -> (
        TopicPartition, Pending, resume: Bool
    )? { next(now: now, caughtUp: caughtUp, waitForIdle: true) }

    private mutating func next(now: EpochMillis, caughtUp: (TopicPartition) -> Bool?, waitForIdle: Bool) -> (
        TopicPartition, Pending, resume: Bool
    )? {
        var best: TopicPartition?
        var bestTime = EpochMillis.max
        var anyIdle = false
        for (tp, lane) in lanesByPartition {
            if let head = lane.first {
                if head.event.occurredAt < bestTime || (head.event.occurredAt == bestTime && tp < best!) {
                    best = tp
                    bestTime = head.event.occurredAt
                }
            } else {
                let caught = caughtUp(tp)
                if caught == true {
                    anyIdle = true
                    continue
                }
                // Behind (the broker holds data not fetched yet: large batches of another
                // partition can keep the fetcher busy for seconds) or unknown (its leader does not
                // answer): wait for it, up to a bound, so one partition cannot stop the rest for
                // good. Releasing others early would turn this lane's events into late ones.
                let since = lane.emptySince ?? now
                if now - since < maxBehindMillis { return nil }
                overdue.insert(tp)
            }
        }
        guard let tp = best else { return nil }
        // Another producer may be about to write earlier events to a caught-up empty lane: the
        // earliest event waits until it has been here the idle allowance. Counted per event, not
        // per lane, so a burst written to every topic at once waits once, not once per lane.
        if anyIdle, waitForIdle, maxIdleMillis > 0, now - lanesByPartition[tp]!.first!.arrivedAt < maxIdleMillis {
            return nil
        }
        let (item, resume) = lanesByPartition[tp]!.release(now: now, pauseThreshold: pauseThreshold)
        return (tp, item, resume)
    }

    /// Releases everything in event-time order regardless of idle lanes (shutdown).
    mutating func drain() -> [(TopicPartition, Pending)] {
        var out: [(TopicPartition, Pending)] = []
        while let (tp, item, _) = next(now: .max, caughtUp: { _ in true }, waitForIdle: false) {
            out.append((tp, item))
        }
        return out
    }
}
