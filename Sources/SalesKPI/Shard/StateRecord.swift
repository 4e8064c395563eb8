/// One changelog record of a shard's state: a key and its latest value, or nil when the key
/// was deleted (a tombstone, so log compaction can drop it).
package struct StateRecord: Sendable, Equatable {
    package var key: String
    package var value: [UInt8]?

    package init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }
}

extension StateRecord {
    /// What log compaction would keep: the latest value of each key (nil for a tombstone).
    package static func latestValues(_ records: [StateRecord]) -> [String: [UInt8]?] {
        var latest: [String: [UInt8]?] = [:]
        for r in records { latest[r.key] = r.value }
        return latest
    }
}
