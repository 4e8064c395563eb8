import Kafka
import SalesKPI

/// The events the route stage forwards to one internal partition as one Kafka message.
///
/// A message per event cost more than the event itself: a produce call with three headers, a
/// delivery report, the broker's work per record, and header parsing when read back. A batch
/// carries, in the order they were forwarded, each event's raw bytes and key with the
/// coordinates it was first read at (for dead letters), so the aggregate stage sees exactly the
/// events, in exactly the order, that one message each would have given it.
///
/// Layout: the version byte, then per entry: the source topic (a varint n: 0 for the previous
/// entry's, else n − 1 UTF-8 bytes follow), the source partition and offset (zigzag varints),
/// the key (a varint n: 0 for none, else n − 1 bytes) and the raw event (a varint length and its
/// bytes). A raw JSON event starts with `{` or whitespace, never with the version byte.
enum RoutedBatch {
    static let version: UInt8 = 0xB2
    /// A batch is sent once it holds this many bytes, so one message stays far below the
    /// producer's `message.max.bytes` (an event larger than this travels alone).
    static let flushBytes = 256 * 1024

    struct Writer {
        private var out = BinaryWriter(capacity: 0)
        private(set) var count = 0
        private var lastTopic = ""

        var bytes: [UInt8] { out.bytes }
        var isEmpty: Bool { count == 0 }

        mutating func append(source: TopicPartition, offset: Int64, key: [UInt8]?, raw: [UInt8]) {
            if count == 0 {
                out.reserve(min(Self.reserve, raw.count * 64))
                out.byte(RoutedBatch.version)
            }
            if count > 0, source.topic == lastTopic {
                out.unsigned(0)
            } else {
                out.unsigned(UInt64(source.topic.utf8.count) + 1)
                out.raw(source.topic.utf8)
                lastTopic = source.topic
            }
            out.int(Int64(source.partition))
            out.int(offset)
            if let key {
                out.unsigned(UInt64(key.count) + 1)
                out.raw(key)
            } else {
                out.unsigned(0)
            }
            out.unsigned(UInt64(raw.count))
            out.raw(raw)
            count += 1
        }

        private static let reserve = 64 * 1024

        /// The batch so far; the writer starts over.
        mutating func take() -> [UInt8] {
            defer { self = Writer() }
            return out.bytes
        }
    }

    struct Entry {
        var source: TopicPartition
        var offset: Int64
        /// Byte ranges inside the message value.
        var key: Range<Int>?
        var raw: Range<Int>
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    static func isBatch(_ value: UnsafeRawBufferPointer) -> Bool { value.first == version }

    /// Every entry of a batch, all read before any is used: a damaged batch is refused whole
    /// rather than applied in part.
    static func entries(_ value: UnsafeRawBufferPointer) throws(Malformed) -> [Entry] {
        guard value.first == version else { throw Malformed(description: "not a routed batch") }
        var at = 1
        var out: [Entry] = []
        var topic = ""

        func unsigned() throws(Malformed) -> UInt64 {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard at < value.count, shift < 64 else {
                    throw Malformed(description: "truncated varint at byte \(at)")
                }
                let b = value[at]
                at += 1
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return v }
                shift += 7
            }
        }
        func signed() throws(Malformed) -> Int64 {
            let u = try unsigned()
            return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
        }
        func bytes(_ n: UInt64) throws(Malformed) -> Range<Int> {
            guard n <= UInt64(value.count - at) else { throw Malformed(description: "length \(n) past the end") }
            defer { at += Int(n) }
            return at..<at + Int(n)
        }

        while at < value.count {
            let t = try unsigned()
            if t > 0 {
                topic = String(decoding: UnsafeRawBufferPointer(rebasing: value[try bytes(t - 1)]), as: UTF8.self)
            } else if out.isEmpty {
                throw Malformed(description: "first entry without a topic")
            }
            guard let partition = Int32(exactly: try signed()) else {
                throw Malformed(description: "partition out of range")
            }
            let offset = try signed()
            let k = try unsigned()
            let key = k == 0 ? nil : try bytes(k - 1)
            let raw = try bytes(try unsigned())
            out.append(Entry(source: TopicPartition(topic, partition), offset: offset, key: key, raw: raw))
        }
        guard !out.isEmpty else { throw Malformed(description: "empty batch") }
        return out
    }

    /// The internal partition of a region: librdkafka's default partitioner for a non-empty key
    /// (`consistent_random`: CRC-32 of the key modulo the partition count), which placed each
    /// region when the route stage sent one keyed message per event; keeping it keeps every
    /// region in the partition, and the changelog, that holds its state.
    static func partition(ofRegion region: String, partitions: Int) -> Int32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in region.utf8 { crc = crcTable[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        return Int32((crc ^ 0xFFFF_FFFF) % UInt32(partitions))
    }

    private static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
}
