import Kafka
import TestSupport
import Testing

@testable import Worker

@Suite("Routed batches on the internal topic")
struct RoutedBatchTests {
    struct Written: Equatable {
        var source: TopicPartition
        var offset: Int64
        var key: [UInt8]?
        var raw: [UInt8]
    }

    static func random(_ rng: inout SplitMix64) -> [Written] {
        let topics = ["crm.deals", "crm.customers", "crm.spend", "a-much-longer-topic-name-than-sixteen-bytes"]
        return (0..<Int.random(in: 1...60, using: &rng)).map { _ in
            let keyLength = Int.random(in: -1...20, using: &rng)
            return Written(
                source: TopicPartition(
                    topics[Int.random(in: 0..<topics.count, using: &rng)], Int32.random(in: 0...300, using: &rng)),
                offset: Int64.random(in: 0...Int64(1) << 40, using: &rng),
                key: keyLength < 0 ? nil : (0..<keyLength).map { _ in UInt8.random(in: 0...255, using: &rng) },
                raw: (0..<Int.random(in: 0...400, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        }
    }

    static func write(_ entries: [Written]) -> [UInt8] {
        var w = RoutedBatch.Writer()
        for e in entries { w.append(source: e.source, offset: e.offset, key: e.key, raw: e.raw) }
        return w.take()
    }

    static func read(_ bytes: [UInt8]) throws -> [Written] {
        try bytes.withUnsafeBytes { value in
            try RoutedBatch.entries(value).map { e in
                Written(
                    source: e.source, offset: e.offset, key: e.key.map { Array(value[$0]) }, raw: Array(value[e.raw]))
            }
        }
    }

    @Test("every entry reads back as written, in order: coordinates, key (or none) and raw bytes")
    func roundTrip() throws {
        var rng = SplitMix64(seed: 11)
        for _ in 0..<300 {
            let entries = Self.random(&rng)
            let bytes = Self.write(entries)
            #expect(bytes.withUnsafeBytes { RoutedBatch.isBatch($0) })
            #expect(try Self.read(bytes) == entries)
        }
    }

    @Test("a cut or damaged batch is refused or reads as a prefix of what was written, never crashes")
    func damaged() throws {
        var rng = SplitMix64(seed: 12)
        var refused = 0
        for _ in 0..<200 {
            let entries = Self.random(&rng)
            let bytes = Self.write(entries)
            for cut in [1, 2, bytes.count / 3, bytes.count / 2, bytes.count - 1] where cut < bytes.count {
                do {
                    let read = try Self.read(Array(bytes[..<cut]))
                    #expect(read.count < entries.count && Array(entries.prefix(read.count)) == read)
                } catch { refused += 1 }
            }
            var flipped = bytes
            flipped[Int.random(in: 1..<flipped.count, using: &rng)] ^= 0xFF
            _ = try? Self.read(flipped)
        }
        #expect(refused > 500)
        // An empty batch or a raw JSON event is not a batch.
        #expect(throws: RoutedBatch.Malformed.self) { try Self.read([RoutedBatch.version]) }
        #expect(Array(#"{"type":"deal.won"}"#.utf8).withUnsafeBytes { !RoutedBatch.isBatch($0) })
    }

    /// Regions must stay in the partitions one keyed message per event put them in (where their
    /// state and changelog are): librdkafka's default partitioner decides, on a real broker.
    @Test("a region's partition is the one librdkafka's default partitioner gives its key", .timeLimit(.minutes(3)))
    func partitionerMatchesLibrdkafka() throws {
        let cluster = try MockCluster(brokers: 1)
        let counts = [1, 6, 7, 16]
        for n in counts { try cluster.createTopic("keys-\(n)", partitions: n) }
        let regions = (0..<200).map { "region-\($0)" } + ["east", "west", "north", "south", "华东", "r"]
        let producer = try KafkaProducer(properties: ["bootstrap.servers": cluster.bootstrapServers])
        for n in counts {
            for region in regions {
                try producer.send(
                    OutgoingMessage(topic: "keys-\(n)", key: Array(region.utf8), value: Array(region.utf8)))
            }
        }
        #expect(producer.flush(timeoutMs: 30_000))
        let read = try TopicReader.readAll(bootstrap: cluster.bootstrapServers, topics: counts.map { "keys-\($0)" })
        #expect(read.count == counts.count * regions.count)
        for m in read {
            let n = Int(m.topic.dropFirst("keys-".count))!
            let region = String(decoding: m.value, as: UTF8.self)
            #expect(m.partition == RoutedBatch.partition(ofRegion: region, partitions: n), "\(region) in \(m.topic)")
        }
    }
}
