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
/// Each entry also carries the event as the route stage decoded it (`SalesEvent.write(to:)`), so
/// the aggregate stage does not parse its JSON a second time; the raw bytes stay for dead letters.
///
/// Layout: the version byte, then per entry: the source topic (a varint n: 0 for the previous
/// entry's, else n − 1 UTF-8 bytes follow), the source partition and offset (zigzag varints),
/// the key (a varint n: 0 for none, else n − 1 bytes), the raw event (a varint length and its
/// bytes) and the decoded event (a varint length and its bytes). A raw JSON event starts with
/// `{` or whitespace, never with a version byte; a progress record has its own
/// (`ProgressRecord.version`).
enum RoutedBatch {
    static let version: UInt8 = 0xB3
    /// A batch is sent once it holds this many bytes, so one message stays far below the
    /// producer's `message.max.bytes` (an event larger than this travels alone).
    static let flushBytes = 256 * 1024

    struct Writer {
        private var out = BinaryWriter(capacity: 0)
        private(set) var count = 0
        private var lastTopic = ""
        /// The event's binary form, written here first for its length.
        private var scratch = BinaryWriter(capacity: 128)

        var bytes: [UInt8] { out.bytes }
        var isEmpty: Bool { count == 0 }

        /// Key and raw bytes are copied straight from the consumed message: making an array of
        /// each first cost two allocations per event (3 % of a routed run's CPU, with their
        /// frees; scripts/bench.sh profiled end to end).
        mutating func append(
            source: TopicPartition, offset: Int64, key: UnsafeRawBufferPointer?, raw: UnsafeRawBufferPointer,
            event: SalesEvent
        ) {
            if count == 0 {
                out.reserve(min(Self.reserve, raw.count * 64))
                out.byte(RoutedBatch.version)
            }
            if count > 0, source.topic == lastTopic {
                out.unsigned(0)
            } else {
                out.unsigned(UInt64(source.topic.utf8.count) + 1)
                out.raw(source.topic)
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
            scratch.reset()
            event.write(to: &scratch)
            out.unsigned(UInt64(scratch.bytes.count))
            out.raw(scratch.bytes)
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
        /// The decoded event's bytes.
        var event: Range<Int>
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    static func isBatch(_ value: UnsafeRawBufferPointer) -> Bool { value.first == version }

    /// Every entry of a batch, all read before any is used: a damaged batch is refused whole
    /// rather than applied in part.
    static func entries(_ value: UnsafeRawBufferPointer) throws(Malformed) -> [Entry] {
        guard isBatch(value) else {
            throw Malformed(
                description:
                    "not a routed batch: version byte \(value.first.map { String($0) } ?? "missing") is unknown")
        }
        do throws(BinaryCursor.Malformed) {
            return try read(value)
        } catch {
            throw Malformed(description: error.description)
        }
    }

    private static func read(_ value: UnsafeRawBufferPointer) throws(BinaryCursor.Malformed) -> [Entry] {
        var r = BinaryCursor(value, at: 1)
        var out: [Entry] = []
        var topic = ""
        while !r.isAtEnd {
            let t = try r.unsigned()
            if t > 0 {
                topic = String(decoding: UnsafeRawBufferPointer(rebasing: value[try r.range(t - 1)]), as: UTF8.self)
            } else if out.isEmpty {
                throw BinaryCursor.Malformed("first entry without a topic")
            }
            let partition = try r.int32()
            let offset = try r.int()
            let k = try r.unsigned()
            let key = k == 0 ? nil : try r.range(k - 1)
            let raw = try r.range(try r.unsigned())
            let event = try r.range(try r.unsigned())
            out.append(
                Entry(source: TopicPartition(topic, partition), offset: offset, key: key, raw: raw, event: event))
        }
        guard !out.isEmpty else { throw BinaryCursor.Malformed("empty batch") }
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
