import Foundation
import Kafka
import TestSupport
import Testing
import Worker

/// A standalone broker process and `salespulse run` worker processes on it, as in production,
/// with the configuration users get: only the session timeout is shorter, so a killed worker
/// is noticed in seconds rather than 45.
final class ScaleCluster {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// `SALESPULSE_SCALE_BINARY` (scripts/test.sh builds and names the release binary: a debug
    /// build takes minutes per backlog), else the debug build.
    static let binary: String =
        ProcessInfo.processInfo.environment["SALESPULSE_SCALE_BINARY"]
        ?? root.appendingPathComponent(".build/debug/salespulse").path
    static let inputPartitions = 48

    static let workerYAML = """
        kafka:
          group_id: scale-test
          properties:
            session.timeout.ms: "6000"
            heartbeat.interval.ms: "500"
        topics:
          partitions: \(inputPartitions)
          internal_partitions: 256
        processing:
          max_event_bytes: \(ScenarioGenerator.maxEventBytes)
        time:
          windows: [day, week, month]
        alerts:
          locale: en
        log_level: info
        """

    static let targets: [TargetsFile.Entry] = [
        .init(scope: "region", region: "r000", period: "month", amount: "400000"),
        .init(scope: "region", region: "r001", period: "month", amount: "200000"),
        .init(scope: "company", period: "month", amount: "60000000"),
    ]

    let dir: URL
    let config: ResolvedConfig
    let broker = Process()
    let bootstrap: String
    private var nextPort = 0
    private(set) var workers: [Worker] = []

    final class Worker {
        let name: String
        let process = Process()
        let log: URL
        let metricsPort: Int
        init(name: String, dir: URL, bootstrap: String, metricsPort: Int) throws {
            self.name = name
            self.metricsPort = metricsPort
            log = dir.appendingPathComponent("\(name).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.executableURL = URL(fileURLWithPath: ScaleCluster.binary)
            process.arguments = ["run", "--config", dir.path, "--no-live"]
            var env = ProcessInfo.processInfo.environment
            env["SALESPULSE_KAFKA_BROKERS"] = bootstrap
            env["SALESPULSE_PROCESSING_INSTANCE_ID"] = name
            env["SALESPULSE_OBSERVABILITY_PORT"] = String(metricsPort)
            env["SALESPULSE_OBSERVABILITY_BIND"] = "127.0.0.1"
            process.environment = env
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }

        func logLines() -> [[String: Any]] {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }

        /// The partitions a stage of this worker holds now, from its log: the last assignment,
        /// unless a revoke came after it.
        func owned(stage: String) -> [Int32] {
            let events = logLines().filter {
                ($0["stage"] as? String) == stage
                    && ["partitions assigned", "partitions revoked"].contains($0["msg"] as? String ?? "")
            }
            guard let last = events.last, (last["msg"] as? String) == "partitions assigned" else { return [] }
            return ScaleCluster.partitionNumbers(last["partitions"] as? String ?? "")
        }

        /// The company watermark this worker's rollup stage reports (nil without the rollup).
        func companyWatermark() -> Double? {
            guard let (status, body) = httpGet("http://127.0.0.1:\(metricsPort)/metrics"), status == 200 else {
                return nil
            }
            return metricValue(body, "salespulse_watermark_seconds")
        }
    }

    init(name: String) throws {
        try #require(
            FileManager.default.fileExists(atPath: Self.binary), "build the salespulse binary first (swift build)")
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("sp-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        print("FIGURES \(name): logs in \(dir.path), binary \(Self.binary)")
        try Self.workerYAML.write(to: dir.appendingPathComponent("worker.yaml"), atomically: true, encoding: .utf8)
        let targetsYAML =
            "targets:\n"
            + Self.targets.map {
                "  - {scope: \($0.scope)\($0.region.map { ", region: \($0)" } ?? ""), period: \($0.period), amount: \"\($0.amount)\"}"
            }.joined(separator: "\n") + "\n"
        try targetsYAML.write(to: dir.appendingPathComponent("targets.yaml"), atomically: true, encoding: .utf8)
        config = try ConfigLoader.load(directory: dir.path, environment: [:])
        broker.executableURL = URL(fileURLWithPath: Self.binary)
        let bootstrapFile = dir.appendingPathComponent("bootstrap")
        broker.arguments = ["broker", "--config", dir.path, "--count", "3", "--bootstrap-file", bootstrapFile.path]
        broker.standardOutput = FileHandle.nullDevice
        broker.standardError = FileHandle.nullDevice
        try broker.run()
        var bootstrap = ""
        for _ in 0..<100 where bootstrap.isEmpty {
            Thread.sleep(forTimeInterval: 0.1)
            bootstrap = (try? String(contentsOf: bootstrapFile, encoding: .utf8)) ?? ""
        }
        self.bootstrap = bootstrap
        try #require(!bootstrap.isEmpty, "broker did not start")
    }

    deinit {
        for w in workers where w.process.isRunning { kill(w.process.processIdentifier, SIGKILL) }
        if broker.isRunning { broker.terminate() }
    }

    @discardableResult
    func start(_ name: String) throws -> Worker {
        nextPort += 1
        let port = 19_400 + Int(getpid() % 400) * 10 + nextPort
        let w = try Worker(name: name, dir: dir, bootstrap: bootstrap, metricsPort: port)
        workers.append(w)
        return w
    }

    /// Waits until `stage` of `worker` owns partitions; returns them.
    func waitUntilOwning(_ worker: Worker, stage: String, seconds: Double) -> [Int32] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let owned = worker.owned(stage: stage)
            if !owned.isEmpty { return owned }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return []
    }

    /// Every stage's group has committed everything there is to read, twice in a row.
    func waitUntilCaughtUp(seconds: Double) throws -> Bool {
        let t = config.worker.topics
        let stages: [(group: String, topics: [String])] = [
            ("scale-test.route", t.inputs), ("scale-test", [t.internal]), ("scale-test.rollup", [t.rollup]),
        ]
        let deadline = Date().addingTimeInterval(seconds)
        var settledChecks = 0
        while Date() < deadline, settledChecks < 2 {
            Thread.sleep(forTimeInterval: 3)
            var behind = 0
            for (group, topics) in stages {
                let marks = try TopicReader.highWatermarks(bootstrap: bootstrap, topics: topics)
                let committed = try TopicReader.committed(
                    bootstrap: bootstrap, group: group, partitions: Array(marks.keys))
                for (tp, m) in marks { behind += Int(max(0, m.high - max(committed[tp] ?? 0, m.low))) }
            }
            settledChecks = behind == 0 ? settledChecks + 1 : 0
        }
        return settledChecks >= 2
    }

    /// Waits until the company watermark (whichever worker holds the rollup) has passed `t`.
    func waitUntilCompanyPassed(_ t: Int64, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let w = workers.filter(\.process.isRunning).compactMap { $0.companyWatermark() }.max()
            if let w, w * 1000 >= Double(t) { return true }
            Thread.sleep(forTimeInterval: 1)
        }
        return false
    }

    /// SIGTERM to every live worker; each must exit 0.
    func stopAll(except killed: [Worker]) {
        for w in workers where w.process.isRunning && !killed.contains(where: { $0 === w }) { w.process.terminate() }
        for w in workers where !killed.contains(where: { $0 === w }) {
            w.process.waitUntilExit()
            #expect(w.process.terminationStatus == 0, "\(w.name) exited with \(w.process.terminationStatus)")
        }
    }

    static func partitionNumbers(_ text: String) -> [Int32] {
        text.split(whereSeparator: { !$0.isNumber }).compactMap { Int32($0) }
    }

    /// Where the route stage puts a region: librdkafka's default partitioner for a keyed record,
    /// CRC-32 (IEEE) of the key modulo the partition count; written out here independently.
    static func internalPartition(ofRegion region: String, partitions: UInt32) -> Int32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in region.utf8 {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return Int32((~crc) % partitions)
    }
}
