import CRdKafka

/// An idempotent producer whose delivery reports arrive through librdkafka's event queue.
///
/// `send` copies the bytes; when librdkafka's queue is full it serves delivery reports and
/// retries, so a slow broker slows the caller instead of growing memory.
// @unchecked Sendable: librdkafka's producer is thread-safe; the delivery counters are only
// touched by the thread that calls `pollDeliveries`/`flush`, which is the owning pipeline thread.
package final class KafkaProducer: @unchecked Sendable {
    let handle: OpaquePointer
    private let mainQueue: OpaquePointer
    private var reports: [UnsafePointer<rd_kafka_message_t>?] = Array(repeating: nil, count: 1024)
    /// Messages acknowledged by the brokers since creation.
    package private(set) var delivered = 0
    /// Failed deliveries since the last `takeFailures()`.
    private var failures: [KafkaError] = []

    package init(properties: [String: String]) throws(KafkaError) {
        var properties = properties
        properties["enable.idempotence"] = properties["enable.idempotence"] ?? "true"
        let conf = try RDKafkaConfig.make(properties)
        rd_kafka_conf_set_events(conf, Int32(RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR))
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
                pollDeliveries(timeoutMs: 100)
                continue
            }
            throw RDKafkaConfig.error(error, "produce to \(message.topic)")
        }
    }

    private func produce(_ m: OutgoingMessage) -> OpaquePointer? {
        var vus: [rd_kafka_vu_t] = []
        vus.reserveCapacity(5 + m.headers.count)
        // Every pointer handed to produceva lives until it returns; librdkafka copies (F_COPY).
        var owned: [UnsafeMutableRawPointer] = []
        defer { owned.forEach { $0.deallocate() } }
        func copy(_ bytes: [UInt8], terminate: Bool) -> UnsafeMutableRawPointer {
            let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count + 1, alignment: 1)
            bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
            p.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self)
            owned.append(p)
            return p
        }
        var vu = rd_kafka_vu_t()
        vu.vtype = RD_KAFKA_VTYPE_TOPIC
        vu.u.cstr = UnsafePointer(copy(Array(m.topic.utf8), terminate: true).assumingMemoryBound(to: CChar.self))
        vus.append(vu)
        vu = rd_kafka_vu_t()
        vu.vtype = RD_KAFKA_VTYPE_MSGFLAGS
        vu.u.i = RD_KAFKA_MSG_F_COPY
        vus.append(vu)
        if let partition = m.partition {
            vu = rd_kafka_vu_t()
            vu.vtype = RD_KAFKA_VTYPE_PARTITION
            vu.u.i32 = partition
            vus.append(vu)
        }
        if let key = m.key {
            vu = rd_kafka_vu_t()
            vu.vtype = RD_KAFKA_VTYPE_KEY
            vu.u.mem.ptr = copy(key, terminate: false)
            vu.u.mem.size = key.count
            vus.append(vu)
        }
        vu = rd_kafka_vu_t()
        vu.vtype = RD_KAFKA_VTYPE_VALUE
        vu.u.mem.ptr = m.value.isEmpty ? nil : copy(m.value, terminate: false)
        vu.u.mem.size = m.value.count
        vus.append(vu)
        for (name, value) in m.headers {
            vu = rd_kafka_vu_t()
            vu.vtype = RD_KAFKA_VTYPE_HEADER
            vu.u.header.name = UnsafePointer(
                copy(Array(name.utf8), terminate: true).assumingMemoryBound(to: CChar.self))
            vu.u.header.val = UnsafeRawPointer(copy(value, terminate: false))
            vu.u.header.size = value.count
            vus.append(vu)
        }
        return vus.withUnsafeBufferPointer { rd_kafka_produceva(handle, $0.baseAddress, $0.count) }
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
            case RD_KAFKA_EVENT_ERROR:
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

    /// Creates topics through the admin API of a real cluster; existing topics are fine.
    package func createTopics(
        _ topics: [(name: String, partitions: Int, replicationFactor: Int, config: [String: String])],
        timeoutMs: Int32 = 30_000
    ) throws(KafkaError) {
        try RDKafkaAdmin.createTopics(handle, topics, timeoutMs: timeoutMs)
    }
}
