import ArgumentParser
import Foundation
import Kafka
import Logging
import SalesKPI
import Synchronization
import Worker

/// A live feed at a fixed rate, each event stamped with the wall clock as it is appended, short
/// fixed windows and the `cac.spike` rule on them: for every alert, the time from the append of
/// the event that let its window close to the alert being readable (`read_committed`).
///
/// A window ending at E closes once every input partition has delivered an event at or after
/// E + lateness: the trigger is the last partition's first such append. Some regions spend four
/// times as much in every fourth window, so their CAC spikes.
struct LiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live", abstract: "Append-to-alert latency on a live feed.")

    @Option var brokers: String
    @Option(help: "Prefix of this run's topics: <prefix>crm (the input) and <prefix>kpi.*.") var prefix = "live."
    @Option(help: "Partitions of the input topic.") var partitions = 8
    @Option(help: "Events appended per second.") var rate = 50_000
    @Option(help: "Seconds of feed.") var seconds = 60
    @Option(help: "Window size in seconds (the cac.spike rule's window).") var windowSeconds = 2
    @Option(help: "processing.commit_interval.") var commitInterval = "1s"
    @Option(help: "exactly_once or at_least_once.") var guarantee = "exactly_once"

    static let regions = 16
    static let lateness: EpochMillis = 1_000

    func run() throws {
        var w = benchWorkerConfig(brokers: brokers, topic: prefix + "crm", prefix: prefix, internalPartitions: 8)
        let window = "\(windowSeconds)s"
        w.time.windows = [window]
        w.time.allowedLateness = "1s"
        w.time.idleTimeout = "30s"
        w.processing.commitInterval = try benchSetting(DurationSetting(commitInterval), "--commit-interval")
        w.processing.processingGuarantee = try benchSetting(ProcessingGuarantee(rawValue: guarantee), "--guarantee")
        w.alerts.cacSpike.window = window
        w.alerts.cacSpike.minHistory = 3
        let config = try ResolvedConfig.resolve(w, TargetsFile(), MarketsFile())
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let clock = Pipeline.wallClock

        let pipeline = Pipeline(config: config, bootstrap: brokers, logger: logger)
        let done = Atomic<Bool>(false)
        let worker = Thread {
            do { try pipeline.run() } catch { FileHandle.standardError.write(Data("live: \(error)\n".utf8)) }
            done.store(true, ordering: .releasing)
        }
        worker.stackSize = 8 << 20
        worker.start()

        // Alerts as a downstream reader sees them: alert id → (window end, company?, when read).
        let seen = Mutex<[String: (end: EpochMillis, company: Bool, visible: EpochMillis)]>([:])
        let alertCount = Atomic<Int>(0)
        let reading = Atomic<Bool>(true)
        let reader = Thread {
            guard
                let consumer = try? KafkaConsumer(
                    properties: [
                        "bootstrap.servers": brokers, "group.id": "live-reader-\(UInt32.random(in: 0...UInt32.max))",
                        "isolation.level": "read_committed", "auto.offset.reset": "earliest",
                        // The mock broker holds a fetch that finds nothing for its whole
                        // fetch.wait.max.ms (500 ms by default), even when data arrives meanwhile
                        // (rdkafka_mock_handlers.c, "If there was no data, delay up to
                        // MaxWait"); a real broker answers once there is. A short wait keeps
                        // the mock's quirk out of what this measures.
                        "fetch.wait.max.ms": "10",
                    ], onRebalance: { _ in [:] }),
                (try? consumer.subscribe([config.worker.topics.alerts])) != nil
            else { return }
            while reading.load(ordering: .acquiring) {
                _ = consumer.poll(timeoutMs: 20) { m in
                    let now = clock()
                    guard let json = try? JSONSerialization.jsonObject(with: Data(m.value)) as? [String: Any],
                        let id = json["alert_id"] as? String, let scope = json["scope"] as? [String: Any],
                        let period = json["period"] as? [String: Any], let end = period["end"] as? String,
                        let t = Timestamp.parse(end)
                    else { return }
                    alertCount.add(1, ordering: .relaxed)
                    let company = (scope["kind"] as? String) == "company"
                    seen.withLock { if $0[id] == nil { $0[id] = (t, company, now) } }
                }
            }
            consumer.close()
        }
        reader.start()

        let producer = try KafkaProducer(properties: [
            "bootstrap.servers": brokers, "linger.ms": "1", "acks": "all", "compression.type": "lz4",
        ])
        let size = EpochMillis(windowSeconds) * 1000
        // Per window end: per partition, the wall time of the first append at or past end + lateness.
        var firstPast: [EpochMillis: [Int32: EpochMillis]] = [:]
        var nextEnd: [Int32: EpochMillis] = [:]
        var lastWindowFed = EpochMillis.min
        var sent = 0
        var seq = 0
        let start = clock()
        // Let the worker join its groups before the feed starts.
        Thread.sleep(forTimeInterval: 8)
        let feedStart = clock()
        while clock() - feedStart < EpochMillis(seconds) * 1000 {
            let now = clock()
            let due = Int(Double(now - feedStart) / 1000 * Double(rate))
            let windowStart = Timestamp.floorDiv(now, size) * size
            var batch: [(region: Int, json: String)] = []
            if windowStart != lastWindowFed {
                // Each region's customers and spend of this window; every fourth window, the
                // even regions spend four times as much.
                lastWindowFed = windowStart
                let spike = (windowStart / size) % 4 == 0
                for region in 0..<Self.regions {
                    for _ in 0..<6 {
                        batch.append(
                            (region, "\"type\":\"customer.acquired\",\"rep_id\":\"r1\",\"customer_id\":\"c\(seq)\""))
                    }
                    let amount = spike && region % 2 == 0 ? 2_400 : 600
                    batch.append(
                        (
                            region,
                            "\"type\":\"spend.recorded\",\"channel\":\"ads\",\"amount\":\(amount),\"currency\":\"CNY\""
                        ))
                }
            }
            while sent + batch.count < due {
                batch.append(
                    (
                        sent % Self.regions,
                        "\"type\":\"deal.created\",\"rep_id\":\"r1\",\"deal_id\":\"d\(seq)\",\"amount\":\"100.00\",\"currency\":\"CNY\",\"created_at\":\"\(Timestamp.format(now))\""
                    ))
                sent += 1
            }
            for (region, body) in batch {
                seq += 1
                let p = Int32(region % partitions)
                let json =
                    "{\"event_id\":\"live-\(seq)\",\"occurred_at\":\"\(Timestamp.format(now))\",\"region\":\"region-\(region)\",\(body)}"
                try producer.send(
                    OutgoingMessage(topic: prefix + "crm", partition: p, key: nil, value: Array(json.utf8)))
                // The first append at or past end + lateness for each window end not yet passed.
                var end = nextEnd[p] ?? (windowStart + size)
                while end + Self.lateness <= now {
                    firstPast[end, default: [:]][p] = now
                    end += size
                }
                nextEnd[p] = end
            }
            producer.pollDeliveries(timeoutMs: 0)
            Thread.sleep(forTimeInterval: 0.001)
        }
        _ = producer.flush(timeoutMs: 30_000)
        let produced = seq
        Thread.sleep(forTimeInterval: 5)
        reading.store(false, ordering: .releasing)
        while !reader.isFinished { Thread.sleep(forTimeInterval: 0.05) }
        pipeline.stop()
        while !done.load(ordering: .acquiring) { Thread.sleep(forTimeInterval: 0.05) }

        var region: [Double] = []
        var company: [Double] = []
        for (_, alert) in seen.withLock({ $0 }) {
            guard let byPartition = firstPast[alert.end], byPartition.count == partitions,
                let trigger = byPartition.values.max(), alert.end >= feedStart
            else { continue }
            if alert.company {
                company.append(Double(alert.visible - trigger))
            } else {
                region.append(Double(alert.visible - trigger))
            }
        }
        let latencies = (region + company).sorted()
        func pct(_ values: [Double], _ q: Double) -> String {
            let v = values.sorted()
            return v.isEmpty ? "-" : String(format: "%.0f", v[min(v.count - 1, Int(Double(v.count) * q))])
        }
        let stats = pipeline.stats.snapshot
        print(
            "live events=\(produced) rate=\(rate) seconds=\(seconds) window_s=\(windowSeconds) commit_interval=\(commitInterval) "
                + "alerts=\(alertCount.load(ordering: .relaxed)) measured=\(latencies.count) "
                + "p50_ms=\(pct(latencies, 0.5)) p99_ms=\(pct(latencies, 0.99)) max_ms=\(pct(latencies, 1)) "
                + "region_p50_ms=\(pct(region, 0.5)) region_p99_ms=\(pct(region, 0.99)) "
                + "company_p50_ms=\(pct(company, 0.5)) company_p99_ms=\(pct(company, 0.99)) "
                + "late=\(stats.deadLettersByReason[.late] ?? 0) dead_letters=\(stats.deadLetters) "
                + "finals=\(stats.finalSummariesPublished) consumed=\(stats.consumed) started_after_ms=\(feedStart - start)"
        )
    }
}
