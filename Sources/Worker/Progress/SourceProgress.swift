import Kafka
import SalesKPI

/// How far one input partition has been forwarded in event time, as its owner announces it
/// (docs/guarantees.md, event time): the newest event time forwarded from it, and whether it is
/// idle — read to the end its leader reports, with nothing new for `time.idle_timeout`.
struct SourceProgress: Equatable, Sendable {
    var source: TopicPartition
    /// `.min` while nothing has been forwarded from it.
    var eventTime: EpochMillis
    var idle: Bool
    /// Read up to the end offset recorded when a bounded run started (`salespulse run
    /// --until-end`): it will deliver nothing more, and holds nothing back.
    var ended = false
}
