import Foundation
import Kafka
import TestSupport
import Testing

@testable import Worker

@Suite("Polls bounded by events, not messages", .serialized)
struct PollLimitTests {
    @Test("a poll hands over at most its limit; the rest come in later polls, in order, none lost")
    func consumerLimit() throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("limited", partitions: 1)
        let producer = try KafkaProducer(properties: ["bootstrap.servers": cluster.bootstrapServers])
        for n in 0..<50 {
            try producer.send(OutgoingMessage(topic: "limited", partition: 0, key: nil, value: Array("\(n)".utf8)))
        }
        #expect(producer.flush(timeoutMs: 30_000))
        let consumer = try KafkaConsumer(
            properties: [
                "bootstrap.servers": cluster.bootstrapServers, "group.id": "limit-\(UUID().uuidString)",
                "auto.offset.reset": "earliest",
            ], maxBatch: 16
        ) { _ in [:] }
        try consumer.subscribe(["limited"])
        var values: [Int] = []
        var largest = 0
        var limits = [3, 1, 7, 0, 100].makeIterator()
        let deadline = ContinuousClock.now + .seconds(60)
        while values.count < 50, ContinuousClock.now < deadline {
            let limit = limits.next() ?? 5
            let n = consumer.poll(timeoutMs: 200, limit: limit) { m in
                values.append(Int(String(decoding: m.value, as: UTF8.self))!)
            }
            // 0 still takes one (a stage must make progress); past maxBatch takes maxBatch.
            largest = max(largest, n)
            #expect(n <= min(max(limit, 1), 16), "limit \(limit)")
        }
        consumer.close()
        #expect(values == Array(0..<50))
        #expect(largest > 1)
    }

    @Test("the aggregate stage takes about poll_batch events per poll, however many a message holds")
    func aggregateLimit() {
        #expect(AggregateStage.pollLimit(events: 2048, eventsPerMessage: 1) == 2048)
        #expect(AggregateStage.pollLimit(events: 2048, eventsPerMessage: 0.2) == 2048)
        #expect(AggregateStage.pollLimit(events: 2048, eventsPerMessage: 800) == 3)
        #expect(AggregateStage.pollLimit(events: 2048, eventsPerMessage: 1024) == 2)
        #expect(AggregateStage.pollLimit(events: 2048, eventsPerMessage: 100_000) == 1)
        #expect(AggregateStage.pollLimit(events: 1, eventsPerMessage: 1) == 1)
    }
}
