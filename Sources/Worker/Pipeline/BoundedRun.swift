import Kafka

/// A bounded run (`salespulse run --until-end`): the end offset of every input partition,
/// recorded when it starts, is the end of that stream. Each source is read up to it and no
/// further; once every source has ended every window gets its final, the rollup closes the
/// company's, everything is committed, and the instance leaves (docs/guarantees.md, bounded
/// runs).
package enum BoundedRun {
    /// The current end (high watermark) of every input partition, asked of its leader.
    package static func endOffsets(_ config: ResolvedConfig, bootstrap: String) throws(KafkaError) -> [TopicPartition:
        Int64]
    {
        let producer = try KafkaProducer(
            properties: KafkaProperties.producer(config.worker.kafka, bootstrap: bootstrap))
        var ends: [TopicPartition: Int64] = [:]
        for topic in config.worker.topics.inputs {
            for p in 0..<Int32(try producer.partitionCount(topic)) {
                let tp = TopicPartition(topic, p)
                ends[tp] = try producer.watermarks(tp).high
            }
        }
        return ends
    }
}

/// Why a bounded run ended without finishing: a stage refused its changelog's records, which
/// every retry would read again. What the other stages held is committed.
package struct BoundedRunAbandoned: Error, CustomStringConvertible {
    package let reason: String

    package var description: String { "bounded run abandoned, a stage cannot restore its state: \(reason)" }
}
