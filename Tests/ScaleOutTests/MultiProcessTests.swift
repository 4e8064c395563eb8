import Foundation
import Kafka
import TestSupport
import Testing
import Worker

/// Worker processes on a standalone broker process, as in production: scale-out, a crash, a
/// replacement and a new member, then every output compared with the reference.
@Suite("Scale-out across processes", .serialized)
struct MultiProcessTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let binary = root.appendingPathComponent(".build/debug/salespulse").path
    static let lateness: Int64 = 90 * 86_400_000

    static let workerYAML = """
        kafka:
          group_id: scale-test
          properties:
            session.timeout.ms: "6000"
            heartbeat.interval.ms: "500"
        topics:
          partitions: 48
          internal_partitions: 256
        processing:
          processing_guarantee: exactly_once
          commit_interval: 2s
          max_event_bytes: \(ScenarioGenerator.maxEventBytes)
        time:
          windows: [day, week, month]
          # Route instances drift apart (a debug build routes a 60-day backlog at different speeds,
          # and a killed one's partitions stall until the group notices): a lateness covering the
          # whole backlog keeps that from turning real events into late ones.
          allowed_lateness: 90d
          idle_timeout: 1h
          emit_interval: 60s
        alerts:
          locale: en
        observability:
          port: 0
        log_level: info
        """

    static let targets: [TargetsFile.Entry] = [
        .init(scope: "region", region: "r000", period: "month", amount: "400000"),
        .init(scope: "region", region: "r001", period: "month", amount: "200000"),
        .init(scope: "company", period: "month", amount: "60000000"),
    ]

    final class Worker {
        let name: String
        let process = Process()
        let log: URL
        init(name: String, dir: URL, bootstrap: String) throws {
            self.name = name
            log = dir.appendingPathComponent("\(name).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.executableURL = URL(fileURLWithPath: MultiProcessTests.binary)
            process.arguments = ["run", "--config", dir.path, "--no-live"]
            var env = ProcessInfo.processInfo.environment
            env["SALESPULSE_KAFKA_BROKERS"] = bootstrap
            env["SALESPULSE_PROCESSING_INSTANCE_ID"] = name
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
    }

    @Test("kill -9, replacement and a new member: outputs equal the reference", .timeLimit(.minutes(15)))
    func scaleOut() throws {
        let began = Date()
        func phase(_ name: String) {
            print("FIGURES phase \(name) at \(String(format: "%.1f", Date().timeIntervalSince(began))) s")
        }
        try #require(
            FileManager.default.fileExists(atPath: Self.binary), "build the salespulse binary first (swift build)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sp-scale-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        print("FIGURES logs in \(dir.path)")
        try Self.workerYAML.write(to: dir.appendingPathComponent("worker.yaml"), atomically: true, encoding: .utf8)
        let targetsYAML =
            "targets:\n"
            + Self.targets.map {
                "  - {scope: \($0.scope)\($0.region.map { ", region: \($0)" } ?? ""), period: \($0.period), amount: \"\($0.amount)\"}"
            }.joined(separator: "\n") + "\n"
        try targetsYAML.write(to: dir.appendingPathComponent("targets.yaml"), atomically: true, encoding: .utf8)
        let config = try ConfigLoader.load(directory: dir.path, environment: [:])

        // The broker runs in its own process.
        let broker = Process()
        broker.executableURL = URL(fileURLWithPath: Self.binary)
        let bootstrapFile = dir.appendingPathComponent("bootstrap")
        broker.arguments = ["broker", "--config", dir.path, "--count", "3", "--bootstrap-file", bootstrapFile.path]
        broker.standardOutput = FileHandle.nullDevice
        broker.standardError = FileHandle.nullDevice
        try broker.run()
        defer { if broker.isRunning { broker.terminate() } }
        var bootstrap = ""
        for _ in 0..<100 where bootstrap.isEmpty {
            Thread.sleep(forTimeInterval: 0.1)
            bootstrap = (try? String(contentsOf: bootstrapFile, encoding: .utf8)) ?? ""
        }
        try #require(!bootstrap.isEmpty, "broker did not start")

        var generator = ScenarioGenerator(
            seed: 3, days: 60, regions: (0..<100).map { "r" + String(1000 + $0).dropFirst() }, density: 6)
        generator.lateTime = ReferenceCalendar.parse("2025-10-01T12:00:00+08:00")
        generator.closingTime = ReferenceCalendar.parse("2026-08-01T12:00:00+08:00")
        let scenario = generator.generate()
        phase("generated")
        let events = scenario.bulk.filter { if case .good = $0.kind { true } else { false } }.count
        #expect(events >= 200_000)

        var workers = try (1...3).map { try Worker(name: "w\($0)", dir: dir, bootstrap: bootstrap) }
        defer { for w in workers where w.process.isRunning { kill(w.process.processIdentifier, SIGKILL) } }
        let chunks = 8
        let size = (scenario.bulk.count + chunks - 1) / chunks
        var killedAt: Date?
        var killed: Worker?
        for k in 0..<chunks {
            try produce(
                Array(scenario.bulk[(k * size)..<min(scenario.bulk.count, (k + 1) * size)]), bootstrap: bootstrap)
            Thread.sleep(forTimeInterval: 3)
            if k == 3 {
                killed = workers[1]
                kill(workers[1].process.processIdentifier, SIGKILL)
                killedAt = Date()
            }
            if k == 4 { workers.append(try Worker(name: "w2b", dir: dir, bootstrap: bootstrap)) }
            if k == 6 { workers.append(try Worker(name: "w4", dir: dir, bootstrap: bootstrap)) }
        }
        phase("bulk produced")
        // Late and closing events only make sense once the workers have caught up with the bulk
        // (a closing event routed ahead of bulk events would make those late).
        try #require(
            try waitUntilCaughtUp(config, bootstrap: bootstrap, seconds: 600),
            "the workers did not catch up with the bulk")
        phase("bulk processed")
        try produce(scenario.late, bootstrap: bootstrap)
        try #require(try waitUntilCaughtUp(config, bootstrap: bootstrap, seconds: 120))
        try produce(scenario.closing, bootstrap: bootstrap)
        #expect(try waitUntilCaughtUp(config, bootstrap: bootstrap, seconds: 120), "the workers did not catch up")
        phase("quiet")
        for w in workers where w.process.isRunning && w !== killed { w.process.terminate() }
        for w in workers where w !== killed {
            w.process.waitUntilExit()
            #expect(w.process.terminationStatus == 0, "\(w.name) exited with \(w.process.terminationStatus)")
        }

        // Read everything back, read_committed, and compare with the reference.
        let all = EmbeddedBroker.layout(config, partitions: 48).map(\.name)
        let messages = try TopicReader.readAll(
            bootstrap: bootstrap, topics: ["kpi.summaries", "kpi.alerts", "kpi.dlq"], timeout: .seconds(300))
        let byTopic = Dictionary(grouping: messages, by: \.topic)
        phase("read \(messages.count) output messages")
        let model = ReferenceModel(scenario)
        let finalWatermark = generator.closingTime - Self.lateness
        let report = try OutputCheck.summaries(
            byTopic["kpi.summaries"] ?? [], model: model, windows: ["day", "week", "month"], targets: Self.targets,
            markets: [:], finalWatermark: finalWatermark, allowDuplicateFinals: true)
        #expect(
            report.mismatches.isEmpty,
            "\(report.mismatches.count) summaries differ, first: \(report.mismatches.prefix(3))")
        #expect(
            report.conflictingFinals.isEmpty,
            "windows with different final values: \(report.conflictingFinals.prefix(3))")
        #expect(
            report.missing.isEmpty, "\(report.missing.count) windows without a final, e.g. \(report.missing.prefix(3))")
        #expect(report.finals > 10_000)

        phase("summaries checked")
        let calendar = ReferenceCalendar()
        let expectedAlerts = ReferenceAlerts.expected(
            model: model, targets: Self.targets.map(referenceTarget),
            cacScopes: scenario.regions.map { ReferenceModel.Scope(kind: "region", region: $0) } + [
                ReferenceModel.Scope(kind: "company")
            ],
            // Shards judge periods from their first watermark on, which lies the allowed lateness
            // before their first event: with 90 days that is months before the data begins.
            rules: ReferenceAlerts.Rules(), coverageStart: ScenarioGenerator.start - Self.lateness,
            from: calendar.interval("day", containing: ScenarioGenerator.start - Self.lateness).end,
            through: calendar.interval("day", containing: finalWatermark).start)
        var actualAlerts: [String: String] = [:]
        for m in byTopic["kpi.alerts"] ?? [] {
            let json = try #require(try JSONSerialization.jsonObject(with: Data(m.value)) as? [String: Any])
            actualAlerts[json["alert_id"] as! String] = json["severity"] as? String
        }
        #expect(expectedAlerts.keys.contains { $0.hasPrefix("cac.spike:region:") })
        #expect(
            actualAlerts == expectedAlerts,
            "missing \(Set(expectedAlerts.keys).subtracting(actualAlerts.keys).sorted().prefix(5)), unexpected \(Set(actualAlerts.keys).subtracting(expectedAlerts.keys).sorted().prefix(5))"
        )

        var expectedDLQ = scenario.bulk.compactMap { if case .bad(let r) = $0.kind { r } else { nil } }
        expectedDLQ += Array(repeating: "late", count: scenario.late.count)
        // A crash can re-send a dead letter (at-least-once on the mock, which ignores aborts): compare as sets with counts at least.
        let dlq = (byTopic["kpi.dlq"] ?? []).map { $0.headers["reason"] ?? "?" }
        #expect(Set(dlq) == Set(expectedDLQ))
        #expect(dlq.count >= expectedDLQ.count)

        // The mock silently drops data past 5 MiB per partition: prove nothing was dropped anywhere.
        for (tp, marks) in try TopicReader.highWatermarks(bootstrap: bootstrap, topics: all) {
            #expect(marks.low == 0, "log start offset of \(tp) moved to \(marks.low)")
        }

        // Figures for the operators' notes.
        let lines = workers.flatMap { w in w.logLines().map { (w, $0) } }
        let restores = lines.filter { ($0.1["msg"] as? String) == "tasks restored" }
        let records = restores.compactMap { Int($0.1["records"] as? String ?? "") }.reduce(0, +)
        let seconds = restores.compactMap {
            ($0.1["duration"] as? String)?.split(separator: " ").first.flatMap { Double($0) }
        }.reduce(0, +)
        print(
            "FIGURES restore: \(records) changelog records in \(seconds) s = \(seconds > 0 ? Int(Double(records) / seconds) : 0) records/s over \(restores.count) restores"
        )
        if let killedAt, let killed {
            let owned = Set(
                killed.logLines().filter {
                    ($0["msg"] as? String) == "partitions assigned" && ($0["stage"] as? String) == "aggregate"
                }.last.flatMap { ($0["partitions"] as? String) }.map { Self.partitionNumbers($0) } ?? [])
            let iso = ISO8601DateFormatter()
            iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let recovered = restores.filter { $0.0 !== killed }.compactMap { line -> Date? in
                guard let ts = (line.1["ts"] as? String).flatMap(iso.date(from:)), ts > killedAt,
                    let parts = line.1["partitions"] as? String,
                    !Set(Self.partitionNumbers(parts)).isDisjoint(with: owned)
                else { return nil }
                return ts
            }.min()
            // Output again: the first region or rep summary of those partitions written after the
            // kill (only their new owner can write one then).
            let killedMillis = Int64(killedAt.timeIntervalSince1970 * 1000)
            let firstOutput = (byTopic["kpi.summaries"] ?? []).compactMap { m -> Int64? in
                guard let ts = m.timestamp, ts > killedMillis,
                    let json = try? JSONSerialization.jsonObject(with: Data(m.value)) as? [String: Any],
                    let region = (json["scope"] as? [String: Any])?["region"] as? String,
                    owned.contains(
                        Self.internalPartition(
                            ofRegion: region, partitions: UInt32(config.worker.topics.internalPartitions)))
                else { return nil }
                return ts
            }.min()
            func after(_ date: Date?) -> String {
                date.map { String(format: "%.1f", $0.timeIntervalSince(killedAt)) } ?? "?"
            }
            print(
                "FIGURES kill -9 → \(killed.name)'s \(owned.count) aggregate partitions restored elsewhere after \(after(recovered)) s, first output from them after \(after(firstOutput.map { Date(timeIntervalSince1970: Double($0) / 1000) })) s"
            )
        }
    }

    /// Every stage's group has committed everything there is to read, twice in a row.
    private func waitUntilCaughtUp(_ config: ResolvedConfig, bootstrap: String, seconds: Double) throws -> Bool {
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

    static func partitionNumbers(_ text: String) -> [Int32] {
        text.split(whereSeparator: { !$0.isNumber }).compactMap { Int32($0) }
    }

    private func referenceTarget(_ t: TargetsFile.Entry) -> ReferenceAlerts.Target {
        ReferenceAlerts.Target(
            scope: ReferenceModel.Scope(kind: t.scope, region: t.region ?? "", rep: t.rep ?? ""), period: t.period,
            amountMinor: Int64(t.amount)! * 100)
    }
}
