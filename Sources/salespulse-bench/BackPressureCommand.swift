import ArgumentParser
import Foundation
import Kafka
import Logging
import SalesKPI
import Worker

/// The memory ceiling under back-pressure, with the worker's default bounds: one worker over the
/// preloaded topic while the benchmark broker's broker 3, leading every partition the worker
/// writes (and none it reads), answers after `rtt` milliseconds. Samples this process's resident
/// memory and progress while output is slow, then lifts the delay and samples again while the
/// worker catches up. The broker runs in its own process, so only the worker's memory counts.
struct BackPressureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backpressure", abstract: "Measure memory while a slow output broker holds the worker back.")

    @Option var brokers: String
    @Option(help: "The benchmark broker's control FIFO (MOCKBROKER_CONTROL).") var control: String
    @Option var topic = "bench.crm"
    @Option var inputPartitions = 8
    @Option(help: "Prefix of this run's own kpi.* topics.") var prefix = "bp."
    @Option var events = 2_000_000
    @Option(help: "Round trip of the output broker while it is slow, in milliseconds.") var rtt = 1000
    @Option(help: "Seconds with the slow output broker.") var slowSeconds = 90
    @Option(help: "Seconds to catch up afterwards (at most).") var catchUpSeconds = 600

    func run() throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let config = try ResolvedConfig.resolve(
            benchWorkerConfig(brokers: brokers, topic: topic, prefix: prefix, internalPartitions: 8), TargetsFile(),
            MarketsFile())
        guard let fifo = FileHandle(forWritingAtPath: control) else {
            throw ValidationError("backpressure: cannot open \(control)")
        }
        func command(_ line: String) { fifo.write(Data((line + "\n").utf8)) }
        let t = config.worker.topics
        for p in 0..<inputPartitions { command("leader \(topic) \(p) \(1 + p % 2)") }
        let metadata = try KafkaProducer(properties: ["bootstrap.servers": brokers])
        for name in [t.internal, t.changelog, t.summaries, t.alerts, t.dlq, t.rollup, t.rollupChangelog] {
            for p in 0..<(try metadata.partitionCount(name)) { command("leader \(name) \(p) 3") }
        }
        command("rtt 3 \(rtt)")
        Thread.sleep(forTimeInterval: 1)
        let baseline = residentBytes()

        let pipeline = Pipeline(config: config, bootstrap: brokers, logger: logger)
        let thread = Thread {
            do { try pipeline.run() } catch { FileHandle.standardError.write(Data("backpressure: \(error)\n".utf8)) }
        }
        thread.stackSize = 8 << 20
        thread.start()

        typealias Sample = (consumed: Int, aggregated: Int, rss: Int)
        func sample() -> Sample {
            let s = pipeline.stats.snapshot
            return (s.consumed, s.aggregated, residentBytes())
        }
        var slow: [Sample] = []
        for _ in 0..<slowSeconds {
            Thread.sleep(forTimeInterval: 1)
            slow.append(sample())
        }
        let stalled = pipeline.stats.snapshot
        command("rtt 3 0")
        var fast: [Sample] = []
        for _ in 0..<catchUpSeconds {
            Thread.sleep(forTimeInterval: 1)
            fast.append(sample())
            let s = pipeline.stats.snapshot
            if s.consumed >= events, s.aggregated >= events, s.isSettled { break }
        }
        let end = pipeline.stats.snapshot
        pipeline.stop()
        func mib(_ bytes: Int) -> Int { bytes >> 20 }
        func line(_ samples: [Sample]) -> String {
            samples.map { "\($0.consumed)/\($0.aggregated):\(mib($0.rss))" }.joined(separator: " ")
        }
        print(
            "backpressure events=\(events) rtt_ms=\(rtt) baseline_mib=\(mib(baseline)) slow_seconds=\(slowSeconds) "
                + "slow_consumed=\(stalled.consumed) slow_aggregated=\(stalled.aggregated) "
                + "slow_peak_mib=\(mib(slow.map(\.rss).max() ?? 0)) slow_queue_peak=\(stalled.producerQueuePeak) "
                + "slow_waits_for_room=\(stalled.producerQueueFullWaits) fast_seconds=\(fast.count) "
                + "fast_consumed=\(end.consumed) fast_aggregated=\(end.aggregated) "
                + "fast_peak_mib=\(mib(fast.map(\.rss).max() ?? 0)) queue_peak=\(end.producerQueuePeak)")
        print("slow seconds (consumed/aggregated:MiB) " + line(slow))
        print("catching up (consumed/aggregated:MiB) " + line(fast))
    }
}
