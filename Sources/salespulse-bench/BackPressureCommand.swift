import ArgumentParser
import Foundation
import Kafka
import Logging
import SalesKPI
import Worker

/// The memory ceiling under back-pressure: one worker in this process against an in-process mock
/// cluster whose broker leading every output, internal and changelog partition answers after
/// `rtt` milliseconds, with the whole feed already waiting in the input topic. Samples resident
/// memory and progress while the output side is slow, then lifts the delay and samples again
/// while the worker catches up at full speed.
///
/// The stock mock keeps at most 5 MiB per partition, so the default feed is sized to fit; the
/// mock's own copy of every message is part of the process's memory (the baseline is taken after
/// the feed is loaded).
struct BackPressureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backpressure", abstract: "Measure memory while a slow output broker holds the worker back.")

    @Option var events = 150_000
    @Option(help: "Round trip of the output broker while it is slow, in milliseconds.") var rtt: Int32 = 1000
    @Option(help: "Seconds with the slow output broker.") var slowSeconds = 30
    @Option(help: "Seconds to catch up afterwards (at most).") var catchUpSeconds = 120

    func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        var w = WorkerConfig()
        w.kafka.groupId = "bench-backpressure"
        w.topics.deals = "bench.crm"
        w.topics.customers = "bench.crm"
        w.topics.spend = "bench.crm"
        w.topics.partitions = 8
        w.time.windows = ["day", "week", "month", "quarter"]
        w.time.idleTimeout = "1000d"
        w.time.emitInterval = "1h"
        w.logLevel = "warning"
        let config = try ResolvedConfig.resolve(w, TargetsFile(), MarketsFile())
        let cluster = try MockCluster(brokers: 3)
        try EmbeddedBroker.createTopics(on: cluster, config: config, partitions: 8, replicationFactor: 1)
        let bootstrap = cluster.bootstrapServers

        // Inputs on brokers 1 and 2; everything the worker writes on broker 3.
        let t = config.worker.topics
        for (name, count) in EmbeddedBroker.layout(config, partitions: 8) {
            for p in 0..<Int32(count) {
                cluster.setPartitionLeader(name, p, broker: t.inputs.contains(name) ? 1 + p % 2 : 3)
            }
        }
        let producer = try KafkaProducer(properties: [
            "bootstrap.servers": bootstrap, "linger.ms": "100", "batch.num.messages": "100000",
            "queue.buffering.max.messages": "1000000", "queue.buffering.max.kbytes": "1048576",
        ])
        let names = (0..<16).map { Array("region-\($0)".utf8) }
        BenchFeed().generate(events) { event in
            try? producer.send(
                OutgoingMessage(
                    topic: "bench.crm", partition: Int32(event.region % 8), key: names[event.region], value: event.json)
            )
        }
        guard producer.flush(timeoutMs: 120_000), producer.takeFailures().isEmpty else {
            throw ValidationError("backpressure: the feed was not delivered")
        }
        let baseline = residentBytes()

        cluster.setRoundTripTime(3, milliseconds: rtt)
        let pipeline = Pipeline(config: config, bootstrap: bootstrap, logger: logger)
        let thread = Thread {
            do { try pipeline.run() } catch { FileHandle.standardError.write(Data("backpressure: \(error)\n".utf8)) }
        }
        thread.stackSize = 8 << 20
        thread.start()

        func mib(_ bytes: Int) -> Int { bytes >> 20 }
        var slow: [(consumed: Int, rss: Int)] = []
        for _ in 0..<slowSeconds {
            Thread.sleep(forTimeInterval: 1)
            slow.append((pipeline.stats.snapshot.consumed, residentBytes()))
        }
        let stalled = pipeline.stats.snapshot
        cluster.setRoundTripTime(3, milliseconds: 0)
        var fast: [(consumed: Int, rss: Int)] = []
        for _ in 0..<catchUpSeconds {
            Thread.sleep(forTimeInterval: 1)
            let s = pipeline.stats.snapshot
            fast.append((s.consumed, residentBytes()))
            if s.consumed >= events, s.isSettled { break }
        }
        let end = pipeline.stats.snapshot
        pipeline.stop()
        print(
            "backpressure events=\(events) rtt_ms=\(rtt) baseline_mib=\(mib(baseline)) "
                + "slow_seconds=\(slowSeconds) slow_consumed=\(stalled.consumed) "
                + "slow_peak_mib=\(mib(slow.map(\.rss).max() ?? 0)) "
                + "slow_queue_peak=\(stalled.producerQueuePeak) slow_waits_for_room=\(stalled.producerQueueFullWaits) "
                + "fast_seconds=\(fast.count) fast_consumed=\(end.consumed) fast_peak_mib=\(mib(fast.map(\.rss).max() ?? 0)) "
                + "queue_peak=\(end.producerQueuePeak)")
        print("slow_samples (consumed:MiB) " + slow.map { "\($0.consumed):\(mib($0.rss))" }.joined(separator: " "))
        print("fast_samples (consumed:MiB) " + fast.map { "\($0.consumed):\(mib($0.rss))" }.joined(separator: " "))
    }
}
