/// Maps a region to its shard with a stable hash, so a region and all its reps share one owner.
package struct ShardRouter: Sendable {
    package let shardCount: Int

    package init(shardCount: Int) { self.shardCount = shardCount }

    package func shard(for region: String) -> Int {
        // FNV-1a: stable across processes and releases, unlike Swift's seeded Hasher.
        var hash: UInt32 = 2_166_136_261
        for byte in region.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return Int(hash % UInt32(shardCount))
    }
}
