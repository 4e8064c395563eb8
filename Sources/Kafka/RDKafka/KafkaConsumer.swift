import CRdKafka

/// A consumer-group member with manual offset commits and eager rebalancing.
///
/// One thread owns it: `poll` and every other call must come from the thread that polls, which
/// is also where rebalance handlers run.
// @unchecked Sendable: handed once to the thread that owns it; never used concurrently.
package final class KafkaConsumer: @unchecked Sendable {
    private let handle: OpaquePointer
    private let queue: OpaquePointer
    private let context: RebalanceContext
    private var topicNames: [UnsafeMutableRawPointer: String] = [:]
    private var batch: [UnsafeMutablePointer<rd_kafka_message_t>?]
    private var closed = false
    private let readHeaders: Bool

    /// Keeps the rebalance handler for the C callback. The consumer owns it and outlives every
    /// callback, which only run inside this consumer's `poll`/`close`.
    final class RebalanceContext {
        let handler: (RebalanceEvent) -> [TopicPartition: Int64]
        var failure: KafkaError?
        /// Partitions paused through this consumer. librdkafka keeps a partition paused across
        /// an unassign and a later assign, while callers treat every assignment as fresh: the
        /// revoke resumes them first (resuming right after an assign could drop its offsets).
        var paused: Set<TopicPartition> = []
        /// The latest statistics, from the statistics callback (run inside `poll`).
        var statistics = ClientStatistics()
        /// Set while `poll` waits in librdkafka: a rebalance is then only noted, and handled once
        /// librdkafka has returned (`servePending`).
        var deferring = false
        /// A rebalance librdkafka announced during `poll`, with its own copy of the partitions.
        /// Until it is handled the group waits: the partitions stay this member's, and nothing new
        /// is assigned.
        var pending: (err: rd_kafka_resp_err_t, list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>)?
        init(_ handler: @escaping (RebalanceEvent) -> [TopicPartition: Int64]) { self.handler = handler }
    }

    /// `properties` must include `bootstrap.servers` and `group.id`; auto-commit is forced off.
    package init(
        properties: [String: String], maxBatch: Int = 2048, readHeaders: Bool = false,
        onRebalance: @escaping (RebalanceEvent) -> [TopicPartition: Int64]
    ) throws(KafkaError) {
        self.readHeaders = readHeaders
        var properties = properties
        properties["enable.auto.commit"] = "false"
        properties["enable.auto.offset.store"] = "false"
        let conf = try RDKafkaConfig.make(properties)
        context = RebalanceContext(onRebalance)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        rd_kafka_conf_set_rebalance_cb(conf, rebalanceTrampoline)
        rd_kafka_conf_set_stats_cb(conf, statisticsTrampoline)
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(code: 0, message: "cannot create consumer: \(RDKafkaConfig.text(errstr))")
        }
        handle = rk
        rd_kafka_poll_set_consumer(rk)
        queue = rd_kafka_queue_get_consumer(rk)
        batch = Array(repeating: nil, count: maxBatch)
    }

    deinit {
        close()
        rd_kafka_queue_destroy(queue)
        rd_kafka_destroy(handle)
    }

    package func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
        let err = rd_kafka_subscribe(handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw RDKafkaConfig.error(err, "subscribe") }
    }

    /// The latest statistics librdkafka reported (with `statistics.interval.ms` set).
    package var statistics: ClientStatistics { context.statistics }

    /// Messages (and events) fetched and waiting for `poll`: what this consumer has in hand,
    /// not how far it is behind its partitions' ends.
    package var queued: Int { Int(rd_kafka_queue_length(queue)) }

    /// Waits up to `timeoutMs` for a first message, then hands `body` that one and whatever else
    /// is already queued, at most `limit` of them (and at most `maxBatch`; the rest stay queued
    /// for the next call); the message memory is only valid inside `body`. Consumer errors (not
    /// messages) go to `onError`. A rebalance librdkafka announced meanwhile is handled after
    /// `body` has seen the batch, outside librdkafka's callback: the rebalance handler may then
    /// commit, produce or call this consumer like any other code on this thread. Returns the count.
    ///
    /// `polled` sees the whole batch first, and `delivered` is called once `body` has seen every
    /// message: the messages stay valid until it returns, so work started on the batch in
    /// `polled` (on another thread) must be done by then.
    @discardableResult
    package func poll(
        timeoutMs: Int32, limit: Int = .max, onError: (KafkaError) -> Void = { _ in },
        polled: ((PolledBatch) -> Void)? = nil, delivered: () -> Void = {},
        _ body: (ConsumedMessage) -> Void
    ) -> Int {
        let n = batch.withUnsafeMutableBufferPointer { buffer -> Int in
            guard let base = buffer.baseAddress else { return 0 }
            let capacity = min(buffer.count, max(1, limit))
            // rd_kafka_consume_batch_queue waits until the batch is full or the time is up
            // (rd_kafka_q_serve_rkmessages): on a live feed every poll would wait out its
            // timeout with messages in hand. So take what is queued, and only when nothing is,
            // wait for one message and then take what came with it.
            context.deferring = true
            defer { context.deferring = false }
            var n = max(0, rd_kafka_consume_batch_queue(queue, 0, base, capacity))
            if n == 0, timeoutMs > 0, context.pending == nil {
                n = max(0, rd_kafka_consume_batch_queue(queue, Int32(timeoutMs), base, 1))
                if n == 1, capacity > 1 {
                    n += max(0, rd_kafka_consume_batch_queue(queue, 0, base + 1, capacity - 1))
                }
            }
            return n
        }
        if let failure = context.failure {
            context.failure = nil
            onError(failure)
        }
        // The batch first: messages librdkafka returned after a revoke are still this member's.
        defer { servePending() }
        guard n > 0 else { return 0 }
        // Freed together, after `delivered`: `polled` may have handed them to another thread.
        defer {
            delivered()
            for k in 0..<n { batch[k].map(rd_kafka_message_destroy) }
        }
        if let polled {
            polled(
                PolledBatch(
                    (0..<n).map { k in
                        guard let m = batch[k]?.pointee, m.err == RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
                        return Self.value(of: m)
                    }))
        }
        var count = 0
        for k in 0..<n {
            guard let m = batch[k] else { continue }
            let msg = m.pointee
            if msg.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                if msg.err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    onError(RDKafkaConfig.error(msg.err, "consume"))
                }
                continue
            }
            var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
            let ts = rd_kafka_message_timestamp(m, &timestampType)
            let key = msg.key.map { UnsafeRawBufferPointer(start: $0, count: msg.key_len) }
            var consumed = ConsumedMessage(
                topic: topicName(msg.rkt), partition: msg.partition, offset: msg.offset, key: key,
                value: Self.value(of: msg),
                timestamp: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : ts)
            consumed.isNull = msg.payload == nil
            consumed.position = k
            if readHeaders { consumed.headerView = headers(of: m) }
            body(consumed)
            count += 1
        }
        return count
    }

    /// A message's value as the stage reads it: empty for a tombstone (null value).
    private static func value(of m: rd_kafka_message_t) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: m.payload, count: m.payload == nil ? 0 : m.len)
    }

    private func headers(of m: UnsafeMutablePointer<rd_kafka_message_t>) -> MessageHeaders? {
        var list: OpaquePointer?
        guard rd_kafka_message_headers(m, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return nil }
        return MessageHeaders(list: list)
    }

    private func topicName(_ rkt: OpaquePointer?) -> String {
        guard let rkt else { return "" }
        let key = UnsafeMutableRawPointer(rkt)
        if let name = topicNames[key] { return name }
        let name = String(cString: rd_kafka_topic_name(rkt))
        topicNames[key] = name
        return name
    }

    /// Synchronously commits `offsets` (the next offset to read, per partition).
    package func commit(_ offsets: [TopicPartition: Int64]) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let list = RDKafkaPartitionList.make(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_commit(handle, list, 0)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw RDKafkaConfig.error(err, "commit") }
    }

    /// The group's committed offsets for `partitions` (negative when none).
    package func committed(_ partitions: [TopicPartition], timeoutMs: Int32 = 10_000) throws(KafkaError)
        -> [TopicPartition: Int64]
    {
        let list = RDKafkaPartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_committed(handle, list, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw RDKafkaConfig.error(err, "committed") }
        return Dictionary(RDKafkaPartitionList.read(list), uniquingKeysWith: { a, _ in a })
    }

    /// The offset after the last record handed to the application, per partition (negative when
    /// none yet): unlike the last message's offset + 1, it has moved past the transaction markers
    /// librdkafka consumed without handing them over.
    package func positions(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        let list = RDKafkaPartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        guard rd_kafka_position(handle, list) == RD_KAFKA_RESP_ERR_NO_ERROR else { return [:] }
        return Dictionary(RDKafkaPartitionList.read(list), uniquingKeysWith: { a, _ in a })
    }

    package func pause(_ partitions: [TopicPartition]) {
        context.paused.formUnion(partitions)
        let list = RDKafkaPartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        rd_kafka_pause_partitions(handle, list)
    }

    package func resume(_ partitions: [TopicPartition]) {
        context.paused.subtract(partitions)
        let list = RDKafkaPartitionList.make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        rd_kafka_resume_partitions(handle, list)
    }

    /// Leaves the group (running the final revoke handler) and stops fetching.
    package func close() {
        guard !closed else { return }
        closed = true
        // librdkafka's close waits for the group's rebalance to finish: one noted must be handled.
        servePending()
        rd_kafka_consumer_close(handle)
    }

    /// Handles the rebalance noted during `poll`: the handler runs here, on the polling thread
    /// but outside librdkafka's callback, then the assignment is changed.
    private func servePending() {
        guard let (err, list) = context.pending else { return }
        context.pending = nil
        defer { rd_kafka_topic_partition_list_destroy(list) }
        rebalance(handle, err, list, context)
    }

    /// Calls `body` with this consumer's group metadata, for sending offsets to a transaction.
    func withGroupMetadata<T>(_ body: (OpaquePointer) throws(KafkaError) -> T) throws(KafkaError) -> T {
        guard let metadata = rd_kafka_consumer_group_metadata(handle) else {
            throw KafkaError(code: 0, message: "no consumer group metadata")
        }
        defer { rd_kafka_consumer_group_metadata_destroy(metadata) }
        return try body(metadata)
    }

    /// The high watermark librdkafka last saw in a fetch response, without asking the broker;
    /// nil before the first fetch of that partition.
    package func cachedHighWatermark(_ tp: TopicPartition) -> Int64? {
        var low: Int64 = 0
        var high: Int64 = 0
        let err = rd_kafka_get_watermark_offsets(handle, tp.topic, tp.partition, &low, &high)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { return nil }
        return high
    }

    /// The low and high watermark offsets of a partition, asked of the broker.
    package func watermarks(_ tp: TopicPartition, timeoutMs: Int32 = 10_000) throws(KafkaError) -> (
        low: Int64, high: Int64
    ) {
        try RDKafkaWatermarks.query(handle, tp, timeoutMs: timeoutMs)
    }
}

/// The C rebalance callback. Inside `poll` it only notes the rebalance (the consumer handles it
/// once librdkafka has returned); otherwise (in `close`) it handles it at once.
private func rebalanceTrampoline(
    _ rk: OpaquePointer?, _ err: rd_kafka_resp_err_t,
    _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, _ opaque: UnsafeMutableRawPointer?
) {
    guard let rk, let opaque else { return }
    let context = Unmanaged<KafkaConsumer.RebalanceContext>.fromOpaque(opaque).takeUnretainedValue()
    if context.deferring, context.pending == nil, let copy = list.flatMap({ rd_kafka_topic_partition_list_copy($0) }) {
        context.pending = (err, copy)
        return
    }
    rebalance(rk, err, list, context)
}

/// Tells the handler, then assigns the partitions from the offsets it returned (an assignment)
/// or clears the assignment (anything else: a revoke or a failed rebalance).
private func rebalance(
    _ rk: OpaquePointer, _ err: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
    _ context: KafkaConsumer.RebalanceContext
) {
    let partitions = RDKafkaPartitionList.read(list).map(\.0)
    if err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
        let start = context.handler(.assigned(partitions))
        if let list, !start.isEmpty {
            for k in 0..<Int(list.pointee.cnt) {
                let e = list.pointee.elems[k]
                if let offset = start[TopicPartition(String(cString: e.topic), e.partition)] {
                    list.pointee.elems[k].offset = offset
                }
            }
        }
        let e = rd_kafka_assign(rk, list)
        if e != RD_KAFKA_RESP_ERR_NO_ERROR { context.failure = RDKafkaConfig.error(e, "assign") }
    } else {
        _ = context.handler(.revoked(partitions))
        if !context.paused.isEmpty {
            let stillPaused = RDKafkaPartitionList.make(Array(context.paused))
            rd_kafka_resume_partitions(rk, stillPaused)
            rd_kafka_topic_partition_list_destroy(stillPaused)
            context.paused = []
        }
        let e = rd_kafka_assign(rk, nil)
        if e != RD_KAFKA_RESP_ERR_NO_ERROR { context.failure = RDKafkaConfig.error(e, "unassign") }
    }
}

/// The C statistics callback: served inside `poll` on the owning thread, like rebalances.
private func statisticsTrampoline(
    _ rk: OpaquePointer?, _ json: UnsafeMutablePointer<CChar>?, _ length: Int, _ opaque: UnsafeMutableRawPointer?
) -> Int32 {
    guard let json, let opaque else { return 0 }
    let context = Unmanaged<KafkaConsumer.RebalanceContext>.fromOpaque(opaque).takeUnretainedValue()
    if let s = ClientStatistics(json: UnsafeRawBufferPointer(start: json, count: length)) { context.statistics = s }
    // 0: librdkafka frees the JSON.
    return 0
}

enum RDKafkaWatermarks {
    static func query(_ rk: OpaquePointer, _ tp: TopicPartition, timeoutMs: Int32) throws(KafkaError) -> (
        low: Int64, high: Int64
    ) {
        var low: Int64 = 0
        var high: Int64 = 0
        var err = rd_kafka_query_watermark_offsets(rk, tp.topic, tp.partition, &low, &high, timeoutMs)
        if err == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION || err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE {
            // librdkafka 2.0.2 does not refresh its idea of the leader after such an answer to
            // this request: ask for the topic's metadata, then once more.
            _ = try? RDKafkaMetadata.partitionCount(rk, tp.topic, timeoutMs: timeoutMs)
            err = rd_kafka_query_watermark_offsets(rk, tp.topic, tp.partition, &low, &high, timeoutMs)
        }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw RDKafkaConfig.error(err, "watermarks of \(tp)") }
        return (low, high)
    }
}
