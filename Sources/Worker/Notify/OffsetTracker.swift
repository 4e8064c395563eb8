import Kafka

/// Which alert offsets are fully handled (every webhook delivered or dead-lettered), so notify
/// commits a partition only up to its first alert still in flight. Webhooks finish out of order:
/// a slow one must not let a commit skip past its alert.
struct OffsetTracker {
    private var open: [TopicPartition: [(offset: Int64, remaining: Int)]] = [:]

    /// An alert read at `offset` that `remaining` webhooks still have to handle (0: none).
    mutating func begin(_ tp: TopicPartition, _ offset: Int64, remaining: Int) {
        open[tp, default: []].append((offset, remaining))
    }

    /// One webhook finished the alert at `offset`.
    mutating func done(_ tp: TopicPartition, _ offset: Int64) {
        guard let k = open[tp]?.firstIndex(where: { $0.offset == offset }) else { return }
        open[tp]![k].remaining -= 1
    }

    /// Per partition, the offset after its longest handled prefix (what to commit), dropping
    /// that prefix; partitions with nothing newly handled are left out.
    mutating func takeCommittable() -> [TopicPartition: Int64] {
        var out: [TopicPartition: Int64] = [:]
        for (tp, entries) in open {
            let handled = entries.prefix { $0.remaining <= 0 }
            guard let last = handled.last else { continue }
            out[tp] = last.offset + 1
            open[tp] = Array(entries.dropFirst(handled.count))
        }
        return out
    }

    /// Alerts still in flight, in `partitions` (or all).
    func pending(in partitions: Set<TopicPartition>? = nil) -> Int {
        open.reduce(0) { sum, entry in
            guard partitions?.contains(entry.key) ?? true else { return sum }
            return sum + entry.value.filter { $0.remaining > 0 }.count
        }
    }

    mutating func drop(_ partitions: [TopicPartition]) {
        for tp in partitions { open[tp] = nil }
    }
}
