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
        let tp: TopicPartition
        var items: [Pending] = []
        var head = 0
        /// The head's event time (`.max` when empty): compared for every released event, so read
        /// without copying the head, whose strings and arrays would each be retained.
        var headTime = EpochMillis.max
        /// Wall-clock time the lane last became empty while possibly behind.
        var emptySince: EpochMillis?
        var paused = false

        var count: Int { items.count - head }
        var first: Pending? { head < items.count ? items[head] : nil }

        mutating func push(_ item: Pending, pauseThreshold: Int) -> Bool {
            if head == items.count { headTime = item.event.occurredAt }
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
            headTime = head < items.count ? items[head].event.occurredAt : .max
            return item
        }
    }

    /// Lanes in an array, scanned for every released event; found by partition through `index`.
    private var lanesInOrder: [Lane] = []
    private var index: [TopicPartition: Int] = [:]
    /// The lane of the last push: messages come in runs from one partition, so the topic name
    /// is hashed once per run instead of once per event.
    private var lastPushed: Int?
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

    var buffered: Int { lanesInOrder.reduce(0) { $0 + $1.count } }

    var laneCount: Int { lanesInOrder.count }

    /// The partitions feeding this aligner.
    var lanes: [TopicPartition] { lanesInOrder.map(\.tp) }

    mutating func assign(_ partitions: [TopicPartition], now: EpochMillis) {
        for tp in partitions where index[tp] == nil { addLane(tp, emptySince: now) }
    }

    @discardableResult
    private mutating func addLane(_ tp: TopicPartition, emptySince: EpochMillis?) -> Int {
        index[tp] = lanesInOrder.count
        lanesInOrder.append(Lane(tp: tp, emptySince: emptySince))
        return lanesInOrder.count - 1
    }

    /// Drops revoked lanes and returns what they still held, so the caller can decide about it.
    mutating func revoke(_ partitions: [TopicPartition]) -> [Pending] {
        var left: [Pending] = []
        let revoked = Set(partitions)
        for lane in lanesInOrder where revoked.contains(lane.tp) {
            left += lane.items[lane.head...]
        }
        lanesInOrder.removeAll { revoked.contains($0.tp) }
        index = Dictionary(uniqueKeysWithValues: lanesInOrder.enumerated().map { ($1.tp, $0) })
        lastPushed = nil
        return left
    }

    /// Buffers an event; returns true when the lane just crossed the pause threshold.
    mutating func push(_ tp: TopicPartition, _ item: Pending) -> Bool {
        let i: Int
        if let last = lastPushed, lanesInOrder[last].tp == tp {
            i = last
        } else {
            i = index[tp] ?? addLane(tp, emptySince: nil)
            lastPushed = i
        }
        // Mutated in place: a copied-out lane would copy its whole buffer on every push.
        return lanesInOrder[i].push(item, pauseThreshold: pauseThreshold)
    }

    /// The lowest offset still buffered in a lane (nothing at or after it may be committed).
    func firstBufferedOffset(_ tp: TopicPartition) -> Int64? { index[tp].flatMap { lanesInOrder[$0].first?.position } }

    /// Releases the earliest buffered event if no other partition could still deliver an earlier
    /// one. `caughtUp` tells whether an empty lane has read everything the broker holds (nil:
    /// the broker cannot say).
    mutating func next(now: EpochMillis, caughtUp: (TopicPartition) -> Bool?) -> (
        TopicPartition, Pending, resume: Bool
    )? { next(now: now, caughtUp: caughtUp, waitForIdle: true) }

    private mutating func next(now: EpochMillis, caughtUp: (TopicPartition) -> Bool?, waitForIdle: Bool) -> (
        TopicPartition, Pending, resume: Bool
    )? {
        var best: Int?
        var bestTime = EpochMillis.max
        var anyIdle = false
        for i in lanesInOrder.indices {
            if lanesInOrder[i].head < lanesInOrder[i].items.count {
                let t = lanesInOrder[i].headTime
                if t < bestTime || (t == bestTime && lanesInOrder[i].tp < lanesInOrder[best!].tp) {
                    best = i
                    bestTime = t
                }
            } else {
                let tp = lanesInOrder[i].tp
                let caught = caughtUp(tp)
                if caught == true {
                    anyIdle = true
                    continue
                }
                // Behind (the broker holds data not fetched yet: large batches of another
                // partition can keep the fetcher busy for seconds) or unknown (its leader does not
                // answer): wait for it, up to a bound, so one partition cannot stop the rest for
                // good. Releasing others early would turn this lane's events into late ones.
                let since = lanesInOrder[i].emptySince ?? now
                if now - since < maxBehindMillis { return nil }
                overdue.insert(tp)
            }
        }
        guard let i = best else { return nil }
        // Another producer may be about to write earlier events to a caught-up empty lane: the
        // earliest event waits until it has been here the idle allowance. Counted per event, not
        // per lane, so a burst written to every topic at once waits once, not once per lane.
        if anyIdle, waitForIdle, maxIdleMillis > 0,
            now - lanesInOrder[i].items[lanesInOrder[i].head].arrivedAt < maxIdleMillis
        {
            return nil
        }
        let (item, resume) = lanesInOrder[i].release(now: now, pauseThreshold: pauseThreshold)
        return (lanesInOrder[i].tp, item, resume)
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
