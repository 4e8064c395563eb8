import ArgumentParser
import Foundation
import Kafka

/// Writes the feed to one topic keyed (and partitioned) by region, in large producer batches:
/// the mock serves one record batch per partition per fetch, so small batches would make the
/// broker, not the consumer, the bottleneck.
struct PreloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "preload", abstract: "Produce the feed.")

    @Option var brokers: String
    @Option var topic = "bench.crm"
    @Option var partitions = 8
    @OptionGroup var feed: FeedOptions

    func run() throws {
        let producer = try KafkaProducer(properties: [
            "bootstrap.servers": brokers, "enable.idempotence": "false", "linger.ms": "200",
            "batch.num.messages": "1000000", "batch.size": "8000000", "message.max.bytes": "10000000",
            "queue.buffering.max.messages": "2000000", "queue.buffering.max.kbytes": "2097151",
        ])
        let began = ContinuousClock.now
        var bytes = 0
        let names = (0..<feed.regions).map { Array("region-\($0)".utf8) }
        feed.feed.generate(feed.events) { event in
            bytes += event.json.count
            do {
                try producer.send(
                    OutgoingMessage(
                        topic: topic, partition: Int32(event.region % partitions), key: names[event.region],
                        value: event.json))
            } catch {
                FileHandle.standardError.write(Data("preload: \(error)\n".utf8))
                Foundation.exit(1)
            }
        }
        guard producer.flush(timeoutMs: 300_000), producer.takeFailures().isEmpty else {
            throw ValidationError("preload: not every event was delivered")
        }
        let seconds = (ContinuousClock.now - began).seconds
        print("preloaded events=\(feed.events) bytes=\(bytes) seconds=\(String(format: "%.2f", seconds))")
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
