import Kafka

/// The next offset to read per input partition: what a commit stores.
///
/// It keeps where the last partition read sits in its dictionary. Messages come in runs of one
/// partition, and looking each one's partition up hashed its topic's name: with the source
/// tracker's lookup, 2.8 % of the pre-keyed aggregate stage's thread, the one that sets that
/// topology's rate (scripts/bench.sh, pre-keyed, under `perf`). A dictionary's index is only
/// good until a key is added or removed, so every change of keys forgets it.
struct ReadPositions {
    private(set) var next: [TopicPartition: Int64] = [:]
    private var last: (tp: TopicPartition, index: Dictionary<TopicPartition, Int64>.Index)?

    /// Notes that `offset` of `tp` was read.
    mutating func read(_ tp: TopicPartition, at offset: Int64) {
        if let last, last.tp == tp {
            next.values[last.index] = offset + 1
            return
        }
        if let i = next.index(forKey: tp) {
            next.values[i] = offset + 1
            last = (tp, i)
        } else {
            next[tp] = offset + 1
            last = nil
        }
    }

    subscript(tp: TopicPartition) -> Int64? {
        get { next[tp] }
        set {
            last = nil
            next[tp] = newValue
        }
    }
}
