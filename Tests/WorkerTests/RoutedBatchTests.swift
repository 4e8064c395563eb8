import Kafka
import SalesKPI
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
        var event: SalesEvent
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
                raw: (0..<Int.random(in: 0...400, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) },
                event: EventBuilder.random(using: &rng))
        }
    }

    static func write(_ entries: [Written]) -> [UInt8] {
        var w = RoutedBatch.Writer()
        for e in entries {
            e.raw.withUnsafeBytes { raw in
                guard let key = e.key else {
                    return w.append(source: e.source, offset: e.offset, key: nil, raw: raw, event: e.event)
                }
                key.withUnsafeBytes { w.append(source: e.source, offset: e.offset, key: $0, raw: raw, event: e.event) }
            }
        }
        return w.take()
    }

    /// A batch laid out by hand, independently of `RoutedBatch.Writer`, each entry with those
    /// bytes as its decoded copy (damaged ones included).
    static func layOut(_ sources: [(TopicPartition, Int64, [UInt8])], events: [[UInt8]]) -> [UInt8] {
        var w = BinaryWriter()
        w.byte(RoutedBatch.version)
        for (k, (source, offset, raw)) in sources.enumerated() {
            w.unsigned(UInt64(source.topic.utf8.count) + 1)
            w.raw(source.topic.utf8)
            w.int(Int64(source.partition))
            w.int(offset)
            w.unsigned(0)
            w.unsigned(UInt64(raw.count))
            w.raw(raw)
            w.unsigned(UInt64(events[k].count))
            w.raw(events[k])
        }
        return w.bytes
    }

    static func read(_ bytes: [UInt8]) throws -> [Written] {
        try bytes.withUnsafeBytes { value in
            try RoutedBatch.entries(value).map { e in
                Written(
                    source: e.source, offset: e.offset, key: e.key.map { Array(value[$0]) }, raw: Array(value[e.raw]),
                    event: try SalesEvent(binary: UnsafeRawBufferPointer(rebasing: value[e.event])))
            }
        }
    }

    @Test("every entry reads back as written, in order: coordinates, key (or none), raw bytes and decoded event")
    func roundTrip() throws {
        var rng = seededGenerator(11)
        for _ in 0..<300 {
            let entries = Self.random(&rng)
            let bytes = Self.write(entries)
            #expect(bytes.first == RoutedBatch.version && bytes.withUnsafeBytes { RoutedBatch.isBatch($0) })
            #expect(try Self.read(bytes) == entries)
        }
    }

    @Test("progress records read back as written; cut, damaged or unknown versions are refused, never crash")
    func progressRecords() throws {
        var rng = seededGenerator(14)
        print("seed 14")
        for _ in 0..<200 {
            let entries = (0..<Int.random(in: 0...40, using: &rng)).map { _ in
                SourceProgress(
                    source: TopicPartition(
                        ["crm.deals", "crm.spend", "华东.x"].randomElement(using: &rng)!,
                        Int32.random(in: 0...500, using: &rng)),
                    eventTime: Int64.random(in: Int64.min...Int64.max, using: &rng), idle: Bool.random(using: &rng))
            }
            let bytes = ProgressRecord.encode(entries)
            #expect(bytes.withUnsafeBytes { ProgressRecord.isRecord($0) && !RoutedBatch.isBatch($0) })
            #expect(try bytes.withUnsafeBytes { try ProgressRecord.decode($0) } == entries)
            for cut in 1..<bytes.count {
                #expect(throws: ProgressRecord.Malformed.self) {
                    try Array(bytes[..<cut]).withUnsafeBytes { try ProgressRecord.decode($0) }
                }
            }
            var flipped = bytes
            flipped[Int.random(in: 0..<flipped.count, using: &rng)] ^= 0xFF
            _ = try? flipped.withUnsafeBytes { try ProgressRecord.decode($0) }
        }
        #expect(throws: ProgressRecord.Malformed.self) {
            try [UInt8(0xC2), 0].withUnsafeBytes { try ProgressRecord.decode($0) }
        }
        // A huge count in a few bytes is refused before anything is reserved.
        #expect(throws: ProgressRecord.Malformed.self) {
            try [ProgressRecord.version, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F].withUnsafeBytes { try ProgressRecord.decode($0) }
        }
    }

    @Test("a cut or damaged batch is refused or reads as a prefix of what was written, never crashes")
    func damaged() throws {
        var rng = seededGenerator(12)
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
        // A version this build does not know is refused with a message naming it.
        #expect(throws: RoutedBatch.Malformed.self) { try Self.read([0xB2, 0x01]) }
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

@Suite("The aggregate stage reading the internal topic", .serialized)
struct RoutedBatchReadingTests {
    static func json(_ n: Int) -> [UInt8] {
        Array(
            #"{"event_id":"routed-\#(n)","type":"deal.won","occurred_at":"2026-03-02T10:00:00+08:00","region":"east","rep_id":"east-r1","deal_id":"d-\#(n)","amount":"1000.50","currency":"CNY","created_at":"2026-02-20T10:00:00+08:00"}"#
                .utf8)
    }

    /// Entries read at crm.deals[0], offsets from 0, without keys.
    static func batch(_ raws: [[UInt8]], events: [[UInt8]]) -> [UInt8] {
        RoutedBatchTests.layOut(
            raws.enumerated().map { k, raw in (TopicPartition("crm.deals", 0), Int64(k), raw) }, events: events)
    }

    @Test(
        "the decoded copy is preferred, a damaged copy falls back to the raw bytes, a damaged batch or an unknown version is dead-lettered",
        .timeLimit(.minutes(3)))
    func readsEveryForm() throws {
        let config = try TestConfig.make()
        let cluster = try MockCluster(brokers: 1)
        try EmbeddedBroker.createTopics(on: cluster, config: config, partitions: 6)
        let decode = { (raw: [UInt8]) -> [UInt8] in
            guard case .event(let e) = config.decoder.decode(raw) else { fatalError("test event does not decode") }
            var w = BinaryWriter()
            e.write(to: &w)
            return w.bytes
        }
        let first = Self.batch([Self.json(1), Self.json(2)], events: [decode(Self.json(1)), decode(Self.json(2))])
        // The second entry's raw bytes are not JSON: only its copy can count it. The third's
        // copy is damaged: only its raw bytes can.
        let current = Self.batch(
            [Self.json(3), Array("{not json".utf8), Self.json(5)],
            events: [decode(Self.json(3)), decode(Self.json(4)), [0xFF, 0x00]])
        let damaged: [UInt8] = [RoutedBatch.version, 0x05]
        // The layout batches had before they carried decoded events: never shipped, refused.
        let unknown: [UInt8] = [0xB2, 0x0A] + Array("crm.deals".utf8) + [0, 0, 0, 2, 0x7B, 0x7D]
        let internalTopic = config.worker.topics.internal
        let partition = RoutedBatch.partition(ofRegion: "east", partitions: config.worker.topics.internalPartitions)
        let producer = try KafkaProducer(properties: ["bootstrap.servers": cluster.bootstrapServers])
        for value in [first, current, damaged, unknown] {
            try producer.send(OutgoingMessage(topic: internalTopic, partition: partition, key: nil, value: value))
        }
        #expect(producer.flush(timeoutMs: 30_000))

        let harness = PipelineHarness(config: config, bootstrap: cluster.bootstrapServers)
        harness.start()
        defer { harness.stop() }
        let settled = harness.wait(timeout: .seconds(60)) { $0.aggregated == 5 && $0.deadLetters == 2 }
        let stats = harness.pipeline.stats.snapshot
        #expect(settled, "aggregated \(stats.aggregated), dead letters \(stats.deadLettersByReason)")
        #expect(stats.eventsByType[.dealWon] == 5 && stats.duplicates == 0)
        #expect(stats.deadLettersByReason == [.unreadableBatch: 2])
        try #require(harness.stop(), "pipeline did not stop")
        let dlq = try TopicReader.readAll(bootstrap: cluster.bootstrapServers, topics: [config.worker.topics.dlq])
        // Dead letters of one source partition may land in different kpi.dlq partitions, and
        // reading several partitions has no order between them: compare as a set.
        #expect(Set(dlq.map(\.value)) == [damaged, unknown] && dlq.count == 2)
        #expect(dlq.allSatisfy { $0.headers["reason"] == "unreadable_batch" })
        let refused = dlq.first { $0.value == unknown }
        #expect(
            refused?.headers["detail"]?.contains("178") == true,
            "the unknown version is named: \(refused?.headers ?? [:])")
    }
}
