import ArgumentParser
import Foundation
import Kafka
import Logging
import SalesKPI
import Synchronization
import Worker

/// Runs one SalesPulse worker in this process over the preloaded topic until every event has
/// been aggregated and the last final summary is out, and prints rates and memory. With
/// `--restore` it instead joins an earlier run's group on its topics, so the new worker is handed
/// every partition with nothing left to read, and reports how fast it restored the changelog.
struct ProcessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process", abstract: "Process the preloaded feed end to end with one worker.")

    @Option var brokers: String
    @Option var topic = "bench.crm"
    @Option(help: "Partitions of the internal topic (and its changelog).") var internalPartitions = 8
    @Option(help: "exactly_once or at_least_once.") var guarantee = "exactly_once"
    @Flag(help: "Read the region-keyed input directly (processing.route_stage: false).") var preKeyed = false
    @Option(help: "Prefix of this run's own kpi.* topics (each run needs fresh ones).") var prefix = ""
    @Option(help: "Aggregate stage instances (processing.aggregate_threads).") var aggregateThreads = 1
    @Option var events = 2_000_000
    @Option(help: "processing.commit_interval.") var commitInterval = "1s"
    @Flag(help: "Print the pipeline's counters to stderr once a second.") var progress = false
    @Option(help: "Seconds without a new final summary after the last event before stopping.") var settle = 5.0
    @Option(help: "Consumer group (default: a fresh one); with --restore, the earlier run's.") var group: String?
    @Flag(help: "Only restore an earlier run's state (its --prefix and --group) and report the rate.")
    var restore = false

    static func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }

    func run() throws {
        var w = benchWorkerConfig(
            brokers: brokers, topic: topic, prefix: prefix, internalPartitions: internalPartitions)
        w.processing.processingGuarantee = try benchSetting(ProcessingGuarantee(rawValue: guarantee), "--guarantee")
        w.processing.routeStage = !preKeyed
        w.processing.aggregateThreads = aggregateThreads
        w.processing.commitInterval = try benchSetting(DurationSetting(commitInterval), "--commit-interval")
        if let group { w.kafka.groupId = group }
        let config = try ResolvedConfig.resolve(w, TargetsFile(), MarketsFile())
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "bench")
        logger.logLevel = .warning

        let lastFinal = Atomic<Int64>(0)
        let finals = Atomic<Int>(0)
        let origin = ContinuousClock.now
        @Sendable func elapsedNanos() -> Int64 {
            let d = ContinuousClock.now - origin
            return d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
        }
        let hooks = PipelineHooks(onSummary: { summary in
            guard summary.final else { return }
            finals.add(1, ordering: .relaxed)
            lastFinal.store(elapsedNanos(), ordering: .relaxed)
        })
        let pipeline = Pipeline(config: config, bootstrap: brokers, logger: logger, hooks: hooks)
        let done = Atomic<Bool>(false)
        let thread = Thread {
            do { try pipeline.run() } catch { FileHandle.standardError.write(Data("process: \(error)\n".utf8)) }
            done.store(true, ordering: .releasing)
        }
        thread.stackSize = 8 << 20
        thread.start()

        var firstConsumed: Int64?
        var allAggregated: Int64?
        var lastCount = -1
        var lastProgress: Int64 = 0
        var stableSince = elapsedNanos()
        var restoredAt: Int64?
        while !done.load(ordering: .acquiring) {
            Thread.sleep(forTimeInterval: 0.02)
            let s = pipeline.stats.snapshot
            let now = elapsedNanos()
            if restore {
                // The rollup restores its own changelog after the aggregate stage: give it time.
                if restoredAt == nil, s.restoreMillis > 0 { restoredAt = now }
                if let restoredAt, Double(now - restoredAt) / 1e9 >= 3 { break }
                if Double(now) / 1e9 > 300 { throw ValidationError("process: nothing restored in 5 minutes") }
                continue
            }
            if firstConsumed == nil, s.consumed > 0 { firstConsumed = now }
            let handled = s.aggregated + s.deadLetters + s.unknownTypes
            if allAggregated == nil, s.consumed >= events, s.isSettled, handled >= events { allAggregated = now }
            if progress, now / 1_000_000_000 != lastProgress {
                // Where the events are: read, routed (sent to the internal topic), aggregated.
                lastProgress = now / 1_000_000_000
                FileHandle.standardError.write(
                    Data(
                        ("progress seconds=\(lastProgress) consumed=\(s.consumed) routed=\(s.routed) "
                            + "aggregated=\(s.aggregated) commits=\(s.commits) producer_queue_peak=\(s.producerQueuePeak) "
                            + "producer_queue_full_waits=\(s.producerQueueFullWaits)\n").utf8))
            }
            let count = finals.load(ordering: .relaxed)
            if count != lastCount {
                lastCount = count
                stableSince = now
            }
            if allAggregated != nil, Double(now - stableSince) / 1e9 >= settle { break }
            if Double(now) / 1e9 > 1800 {
                FileHandle.standardError.write(Data("process: gave up after 30 minutes: \(s)\n".utf8))
                Foundation.exit(1)
            }
        }
        let stats = pipeline.stats.snapshot
        pipeline.stop()
        while !done.load(ordering: .acquiring) { Thread.sleep(forTimeInterval: 0.05) }
        if restore {
            guard restoredAt != nil else { throw ValidationError("process: the worker stopped before restoring") }
            print(
                "restored records=\(stats.restoredRecords) bytes=\(stats.restoredBytes) "
                    + String(format: "seconds=%.3f ", Double(stats.restoreMillis) / 1000)
                    + "records_per_s=\(stats.restoreMillis > 0 ? stats.restoredRecords * 1000 / stats.restoreMillis : 0) "
                    + "consumed=\(stats.consumed)")
            return
        }
        guard let first = firstConsumed, let aggregated = allAggregated else {
            throw ValidationError("process: the pipeline stopped before finishing")
        }
        let end = max(aggregated, lastFinal.load(ordering: .relaxed))
        let fromFirst = Double(end - first) / 1e9
        // A drying backlog: from the last event applied to the last final it let close.
        let finalLag = Double(max(0, lastFinal.load(ordering: .relaxed) - aggregated)) / 1e9
        let total = Double(end) / 1e9
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print(
            "processed group=\(config.worker.kafka.groupId) events=\(stats.consumed) aggregated=\(stats.aggregated) decoded_ahead=\(stats.decodedAhead) finals=\(finals.load(ordering: .relaxed)) "
                + "late=\(stats.deadLetters) duplicates=\(stats.duplicates) "
                + "changelog_records=\(stats.changelogRecords) "
                + String(
                    format: "seconds_from_first=%.3f seconds_total=%.3f final_lag_s=%.3f ", fromFirst, total, finalLag)
                + "peak_rss_kib=\(usage.ru_maxrss) "
                + String(format: "cpu_seconds=%.2f", Self.seconds(usage.ru_utime) + Self.seconds(usage.ru_stime)))
    }
}
