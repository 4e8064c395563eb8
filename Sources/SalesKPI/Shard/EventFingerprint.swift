/// What the dedupe window keeps of an event id: the SipHash-2-4 128-bit hash of its UTF-8 bytes
/// under a key drawn at random for each shard, 16 bytes however long the id, where a `String`
/// id longer than 15 bytes took a heap block of its own and was hashed again to be forgotten.
///
/// Two ids with the same fingerprint are one id to the dedupe window: the later event is
/// dropped as a duplicate. That is the whole of collision handling, and why the hash is keyed
/// and this wide: a producer cannot choose colliding ids without the key, and among n distinct
/// ids within the horizon some two collide with a probability below n² / 2¹²⁹ (1.5 × 10⁻²¹ for
/// a billion ids). Ids are compared as bytes: two spellings of one Unicode text are two ids.
package struct EventFingerprint: Hashable, Sendable {
    package let low: UInt64
    package let high: UInt64

    init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    package init(of id: String, key: SipHash128) { (low, high) = key.hash(id) }
}
