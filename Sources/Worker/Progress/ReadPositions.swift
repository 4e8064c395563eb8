import Kafka

/// The next offset to read per input partition: what a commit stores. Each message's partition
/// is found through `LastPartitionIndex`.
struct ReadPositions {
    private(set) var next: [TopicPartition: Int64] = [:]
    private var last = LastPartitionIndex<Int64>()

    /// Notes that `offset` of `tp` was read.
    mutating func read(_ tp: TopicPartition, at offset: Int64) {
        if let i = last.index(of: tp, in: next) {
            next.values[i] = offset + 1
        } else {
            // A new key: `last` already forgot, having found nothing.
            next[tp] = offset + 1
        }
    }

    subscript(tp: TopicPartition) -> Int64? {
        get { next[tp] }
        set {
            last.forget()
            next[tp] = newValue
        }
    }
}
