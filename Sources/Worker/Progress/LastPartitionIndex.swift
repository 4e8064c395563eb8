import Kafka

/// Where the partition looked up last sits in a dictionary keyed by partition, for the next
/// lookup of the same one. Input messages come in runs of one partition, and looking each one's
/// partition up hashed its topic's name: with `ReadPositions` and `SourceTracker` both doing so,
/// 2.8 % of the pre-keyed aggregate stage's thread, the one that sets that topology's rate
/// (scripts/bench.sh, pre-keyed, under `perf`).
///
/// A dictionary's index is only good until a key is added or removed (a stale one traps, or
/// after a removal finds a moved entry): the owner calls `forget()` whenever it does either.
struct LastPartitionIndex<Value> {
    private var last: (tp: TopicPartition, index: Dictionary<TopicPartition, Value>.Index)?

    /// The index of `tp` in `dictionary`, nil when it is not there.
    mutating func index(of tp: TopicPartition, in dictionary: [TopicPartition: Value])
        -> Dictionary<TopicPartition, Value>.Index?
    {
        if let last, last.tp == tp { return last.index }
        let i = dictionary.index(forKey: tp)
        last = i.map { (tp, $0) }
        return i
    }

    mutating func forget() { last = nil }
}
