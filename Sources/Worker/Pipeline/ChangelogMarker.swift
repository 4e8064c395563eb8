import Foundation
import Kafka
import SalesKPI

/// The record that closes each changelog flush: the input position the flushed state
/// corresponds to. Restores read up to the last marker and drop anything after it (a flush a
/// crash interrupted), then resume the input exactly there, so state and position always match.
/// Its value is `version` followed by the JSON of the positions.
struct ChangelogMarker: Codable {
    static let key = "x"
    static let version: UInt8 = 0xD1
    /// topic → partition → next offset.
    var offsets: [String: [String: Int64]]

    init(_ offsets: [TopicPartition: Int64]) {
        var o: [String: [String: Int64]] = [:]
        for (tp, offset) in offsets { o[tp.topic, default: [:]][String(tp.partition)] = offset }
        self.offsets = o
    }

    var positions: [TopicPartition: Int64] {
        var out: [TopicPartition: Int64] = [:]
        for (topic, partitions) in offsets {
            for (p, offset) in partitions { if let n = Int32(p) { out[TopicPartition(topic, n)] = offset } }
        }
        return out
    }

    var record: StateRecord { StateRecord(key: Self.key, value: StateEncoding.json(self, version: Self.version)) }

    /// A marker's value read back; one of another version is refused, never skipped (a restore
    /// that skipped it would resume at an older marker with newer state).
    static func read(_ value: [UInt8]) throws -> ChangelogMarker {
        try StateEncoding.decode(ChangelogMarker.self, value, version: version)
    }

    /// What a restore found in one changelog partition.
    struct Restored {
        /// Records up to the last marker (a flush interrupted by a crash is dropped).
        var records: [StateRecord] = []
        /// The last marker's input positions; nil when the partition has no marker yet.
        var positions: [TopicPartition: Int64]?
        /// Every record read, complete flushes or not.
        var read = 0
        /// Their keys and values together.
        var bytes = 0
    }

    /// Reads changelog partitions (all at once) and cuts each at its last marker.
    static func restore(_ partitions: [TopicPartition], properties: [String: String]) throws -> [Int32: Restored] {
        var all: [Int32: [StateRecord]] = [:]
        var cut: [Int32: Int] = [:]
        var out: [Int32: Restored] = Dictionary(uniqueKeysWithValues: partitions.map { ($0.partition, Restored()) })
        var unreadable: (any Error)?
        try PartitionReader.read(partitions, properties: properties) { m in
            let key = m.key.map { String(decoding: $0, as: UTF8.self) } ?? ""
            let value: [UInt8]? = m.isNull ? nil : Array(m.value)
            all[m.partition, default: []].append(StateRecord(key: key, value: value))
            out[m.partition, default: Restored()].read += 1
            out[m.partition, default: Restored()].bytes += m.value.count + (m.key?.count ?? 0)
            guard key == Self.key, let value else { return }
            do {
                let marker = try read(value)
                cut[m.partition] = all[m.partition, default: []].count
                out[m.partition, default: Restored()].positions = marker.positions
            } catch {
                unreadable = unreadable ?? error
            }
        }
        if let unreadable { throw unreadable }
        for (p, n) in cut { out[p, default: Restored()].records = Array(all[p, default: []][..<n]) }
        return out
    }
}
