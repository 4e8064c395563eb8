import CRdKafka
import Foundation

/// An idempotent producer whose delivery reports arrive through librdkafka's event queue.
///
/// `send` copies the bytes; when librdkafka's queue is full it serves delivery reports and
/// retries, so a slow broker slows the caller instead of growing memory.
// @unchecked Sendable: handed to the thread that owns it; `send`, `pollDeliveries` and `flush`
// (which share a scratch buffer and the delivery counters) are only called from that thread.
package final class KafkaProducer: @unchecked Sendable {
    let handle: OpaquePointer
    private let mainQueue: OpaquePointer
    private var reports: [UnsafePointer<rd_kafka_message_t>?] = Array(repeating: nil, count: 1024)
    /// Times `send` found librdkafka's queue full and waited for deliveries.
    package private(set) var queueFullWaits = 0
    /// Reused by `produce` for the bytes of one message.
    private var scratch: [UInt8] = []
    /// Messages acknowledged by the brokers since creation.
    package private(set) var delivered = 0
    /// Failed deliveries since the last `takeFailures()`.
    private var failures: [KafkaError] = []
    /// Error events (fatal or not: a broker unreachable, every broker down) since creation.
    package private(set) var errorEvents = 0
    /// The latest statistics librdkafka reported (with `statistics.interval.ms` set).
    package private(set) var statistics = ClientStatistics()

    package init(properties: [String: String]) throws(KafkaError) {
        var properties = properties
        properties["enable.idempotence"] = properties["enable.idempotence"] ?? "true"
        let conf = try RDKafkaConfig.make(properties)
        rd_kafka_conf_set_events(conf, Int32(RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR | RD_KAFKA_EVENT_STATS))
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(code: 0, message: "cannot create producer: \(RDKafkaConfig.text(errstr))")
        }
        handle = rk
        mainQueue = rd_kafka_queue_get_main(rk)
    }

    deinit {
        rd_kafka_queue_destroy(mainQueue)
        rd_kafka_destroy(handle)
    }

    /// Messages queued in librdkafka and not yet reported.
    package var outstanding: Int { Int(rd_kafka_outq_len(handle)) }

    package func send(_ message: OutgoingMessage) throws(KafkaError) {
        while true {
            let error = produce(message)
            guard let error else { return }
            let code = rd_kafka_error_code(error)
            if code == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                rd_kafka_error_destroy(error)
                queueFullWaits += 1
                pollDeliveries(timeoutMs: 100)
                continue
            }
            throw RDKafkaConfig.error(error, "produce to \(message.topic)")
        }
    }

    private func produce(_ m: OutgoingMessage) -> OpaquePointer? {
        // Every byte goes into one reused scratch buffer (librdkafka copies it, F_COPY), so a
        // message costs no allocation here; offsets are fixed up once the buffer stops growing.
        scratch.removeAll(keepingCapacity: true)
        func place(_ bytes: some Collection<UInt8>, terminate: Bool) -> Int {
            let at = scratch.count
            scratch.append(contentsOf: bytes)
            if terminate { scratch.append(0) }
            return at
        }
        let topic = place(m.topic.utf8, terminate: true)
        let key = m.key.map { place($0, terminate: false) }
        let value = place(m.value, terminate: false)
        var headerAt: [(name: Int, value: Int)] = []
        if !m.headers.isEmpty {
            headerAt.reserveCapacity(m.headers.count)
            for (name, bytes) in m.headers {
                headerAt.append((place(name.utf8, terminate: true), place(bytes, terminate: false)))
            }
        }
        return scratch.withUnsafeMutableBytes { raw -> OpaquePointer? in
            let base = raw.baseAddress!
            var vus = (
                rd_kafka_vu_t(), rd_kafka_vu_t(), rd_kafka_vu_t(), rd_kafka_vu_t(), rd_kafka_vu_t(), rd_kafka_vu_t(),
                rd_kafka_vu_t(), rd_kafka_vu_t()
            )
            return withUnsafeMutableBytes(of: &vus) { fixed -> OpaquePointer? in
                // Up to three headers fit the fixed array; more take the slow path below.
                let needed = 5 + m.headers.count
                let heap = needed > 8 ? UnsafeMutableBufferPointer<rd_kafka_vu_t>.allocate(capacity: needed) : nil
                defer { heap?.deallocate() }
                let list = heap ?? fixed.bindMemory(to: rd_kafka_vu_t.self)
                var n = 0
                func add(_ build: (inout rd_kafka_vu_t) -> Void) {
                    var vu = rd_kafka_vu_t()
                    build(&vu)
                    list[n] = vu
                    n += 1
                }
                add {
                    $0.vtype = RD_KAFKA_VTYPE_TOPIC
                    $0.u.cstr = UnsafePointer(base.advanced(by: topic).assumingMemoryBound(to: CChar.self))
                }
                add {
                    $0.vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    $0.u.i = RD_KAFKA_MSG_F_COPY
                }
                if let partition = m.partition {
                    add {
                        $0.vtype = RD_KAFKA_VTYPE_PARTITION
                        $0.u.i32 = partition
                    }
                }
                if let key, let k = m.key {
                    add {
                        $0.vtype = RD_KAFKA_VTYPE_KEY
                        $0.u.mem.ptr = base.advanced(by: key)
                        $0.u.mem.size = k.count
                    }
                }
                add {
                    $0.vtype = RD_KAFKA_VTYPE_VALUE
                    $0.u.mem.ptr = m.value.isEmpty ? nil : base.advanced(by: value)
                    $0.u.mem.size = m.value.count
                }
                for (k, (_, bytes)) in m.headers.enumerated() {
                    add {
                        $0.vtype = RD_KAFKA_VTYPE_HEADER
                        $0.u.header.name = UnsafePointer(
                            base.advanced(by: headerAt[k].name).assumingMemoryBound(to: CChar.self))
                        $0.u.header.val = UnsafeRawPointer(base.advanced(by: headerAt[k].value))
                        $0.u.header.size = bytes.count
                    }
                }
                return rd_kafka_produceva(handle, list.baseAddress, n)
            }
        }
    }

    /// Serves delivery reports for up to `timeoutMs`; returns how many messages were reported.
    @discardableResult
    package func pollDeliveries(timeoutMs: Int32) -> Int {
        var reported = 0
        var wait = timeoutMs
        while let event = rd_kafka_queue_poll(mainQueue, wait) {
            defer { rd_kafka_event_destroy(event) }
            wait = 0
            switch rd_kafka_event_type(event) {
            case RD_KAFKA_EVENT_DR:
                let n = reports.withUnsafeMutableBufferPointer {
                    rd_kafka_event_message_array(event, $0.baseAddress, $0.count)
                }
                for k in 0..<n {
                    guard let m = reports[k] else { continue }
                    if m.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                        delivered += 1
                    } else {
                        failures.append(RDKafkaConfig.error(m.pointee.err, "delivery"))
                    }
                }
                reported += n
            case RD_KAFKA_EVENT_STATS:
                if let json = rd_kafka_event_stats(event),
                    let s = ClientStatistics(json: UnsafeRawBufferPointer(start: json, count: strlen(json)))
                {
                    statistics = s
                }
            case RD_KAFKA_EVENT_ERROR:
                errorEvents += 1
                let code = rd_kafka_event_error(event)
                let fatal = rd_kafka_event_error_is_fatal(event) != 0
                if fatal {
                    failures.append(
                        KafkaError(
                            code: code.rawValue,
                            message: "producer: \(String(cString: rd_kafka_event_error_string(event)))", isFatal: true))
                }
            default:
                break
            }
        }
        return reported
    }

    /// Delivery failures since the last call.
    package func takeFailures() -> [KafkaError] {
        defer { failures.removeAll() }
        return failures
    }

    /// Waits until every queued message is delivered or failed, or the timeout passes.
    /// Returns true when nothing is outstanding.
    @discardableResult
    package func flush(timeoutMs: Int) -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        while outstanding > 0 {
            if ContinuousClock.now >= deadline { return false }
            pollDeliveries(timeoutMs: 50)
        }
        return true
    }

    /// Drops the messages not sent yet (their delivery reports say so) and serves the reports of
    /// those in flight for up to `timeoutMs`: before an abort, which otherwise waits its whole
    /// timeout for reports that only this thread can serve.
    @discardableResult
    package func purgeQueued(timeoutMs: Int) -> Bool {
        _ = rd_kafka_purge(handle, Int32(RD_KAFKA_PURGE_F_QUEUE))
        let done = flush(timeoutMs: timeoutMs)
        _ = takeFailures()
        return done
    }

    /// The low and high watermark offsets of a partition, asked of the broker.
    package func watermarks(_ tp: TopicPartition, timeoutMs: Int32 = 10_000) throws(KafkaError) -> (
        low: Int64, high: Int64
    ) {
        try RDKafkaWatermarks.query(handle, tp, timeoutMs: timeoutMs)
    }

    /// Partition counts of topics from the cluster's metadata (0 when the topic is unknown).
    package func partitionCount(_ topic: String, timeoutMs: Int32 = 10_000) throws(KafkaError) -> Int {
        try RDKafkaMetadata.partitionCount(handle, topic, timeoutMs: timeoutMs)
    }

    /// Every topic of the cluster with its partition count.
    package func topics(timeoutMs: Int32 = 10_000) throws(KafkaError) -> [String: Int] {
        try RDKafkaMetadata.allTopics(handle, timeoutMs: timeoutMs)
    }

    /// The cluster id from the brokers' metadata, waiting up to `timeoutMs` for metadata; nil
    /// when none arrived in time.
    package func clusterId(timeoutMs: Int32 = 10_000) -> String? {
        guard let id = rd_kafka_clusterid(handle, timeoutMs) else { return nil }
        defer { rd_kafka_mem_free(handle, id) }
        return String(cString: id)
    }

    /// Creates topics through the admin API of a real cluster; existing topics are fine.
    package func createTopics(
        _ topics: [(name: String, partitions: Int, replicationFactor: Int, config: [String: String])],
        timeoutMs: Int32 = 30_000
    ) throws(KafkaError) {
        try RDKafkaAdmin.createTopics(handle, topics, timeoutMs: timeoutMs)
    }
}
