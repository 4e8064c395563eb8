import Kafka
import SalesKPI

/// The progress marker a route instance writes into every internal partition, in the same
/// transaction as the events it covers and after them: a task reading it has already read every
/// event of those sources up to the announced event times.
///
/// Layout: the version byte, a count, then per source: its topic (a varint length and UTF-8
/// bytes), partition and event time (zigzag varints), and a state byte (0 active, 1 idle, 2
/// ended: read to the end of a bounded run). The version byte differs from a routed batch's and
/// from the first byte of any JSON event.
enum ProgressRecord {
    static let version: UInt8 = 0xC1

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    static func isRecord(_ value: UnsafeRawBufferPointer) -> Bool { value.first == version }

    /// The record; a task's changelog keeps its sources' progress in the same form.
    static func encode(_ entries: [SourceProgress]) -> [UInt8] {
        var w = BinaryWriter(capacity: 8 + 32 * entries.count)
        w.byte(version)
        w.count(entries.count)
        for e in entries {
            w.string(e.source.topic)
            w.int(e.source.partition)
            w.int(e.eventTime)
            w.byte(e.ended ? 2 : e.idle ? 1 : 0)
        }
        return w.bytes
    }

    static func decode(_ value: UnsafeRawBufferPointer) throws(Malformed) -> [SourceProgress] {
        guard value.first == version else {
            throw Malformed(description: "progress record version \(value.first.map { "\($0)" } ?? "none") unknown")
        }
        var r = BinaryCursor(value, at: 1)
        do throws(BinaryCursor.Malformed) {
            let entries = try read(&r)
            guard r.isAtEnd else { throw BinaryCursor.Malformed("trailing bytes") }
            return entries
        } catch {
            throw Malformed(description: "progress record: \(error.description)")
        }
    }

    private static func read(_ r: inout BinaryCursor) throws(BinaryCursor.Malformed) -> [SourceProgress] {
        let n = try r.unsigned()
        // Each entry takes at least four bytes: a count past that is damage, not a reason to
        // reserve memory.
        guard n <= UInt64((r.bytes.count - r.at) / 4) else { throw BinaryCursor.Malformed("count \(n) too large") }
        var out: [SourceProgress] = []
        out.reserveCapacity(Int(n))
        for _ in 0..<n {
            let topic = try r.string()
            let partition = try r.int32()
            let time = try r.int()
            let state = try r.byte()
            guard state <= 2 else { throw BinaryCursor.Malformed("source state \(state)") }
            out.append(
                SourceProgress(
                    source: TopicPartition(topic, partition), eventTime: time, idle: state >= 1, ended: state == 2))
        }
        return out
    }
}
