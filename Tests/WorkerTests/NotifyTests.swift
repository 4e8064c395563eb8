import Crypto
import Foundation
import Glibc
import Kafka
import Logging
import Prometheus
import TestSupport
import Testing

@testable import Worker

/// `salespulse notify` against chat robots on loopback and real alerts on the mock cluster.
@Suite("Notify", .serialized)
struct NotifyTests {
    // MARK: alerts as the worker writes them

    static let rules = ["target.slipping", "cac.spike", "target.recovered"]
    static let severities = ["critical", "warning", "info"]
    static let regions: [String?] = ["east", "west", nil]

    /// Alert k: rule, severity and region cycle with different periods, so routing mixes them.
    static func alert(_ k: Int) -> (id: String, rule: String, severity: String, region: String?, json: String) {
        let rule = rules[k % 3]
        let severity = severities[(k / 3) % 3]
        let region = regions[(k / 2) % 3]
        let id = "\(rule):\(region ?? "company"):a-\(k)"
        let scope =
            region.map { #"{"kind":"region","id":"\#($0)","region":"\#($0)"}"# }
            ?? #"{"kind":"company","id":"company","region":null}"#
        let json =
            #"{"alert_id":"\#(id)","rule":"\#(rule)","severity":"\#(severity)","scope":\#(scope),"period":{"kind":"month","start":"2026-02-01T00:00:00+08:00","end":"2026-03-01T00:00:00+08:00"},"observed":0.6,"threshold":0.85,"baseline":null,"message":"区域 \#(region ?? "公司") 告警 a-\#(k)","event_time":"2026-02-06T16:00:00Z","detected_at":"2026-11-29T01:35:24.584Z"}"#
        return (id, rule, severity, region, json)
    }

    static func produceAlerts(_ range: Range<Int>, bootstrap: String) throws {
        let producer = try KafkaProducer(properties: ["bootstrap.servers": bootstrap, "enable.idempotence": "true"])
        for k in range {
            let a = alert(k)
            // Keyed by id (the worker keys by scope): alerts spread over every partition.
            try producer.send(OutgoingMessage(topic: "kpi.alerts", key: a.id, value: a.json))
        }
        #expect(producer.flush(timeoutMs: 30_000))
    }

    private func cluster(_ config: ResolvedConfig) throws -> MockCluster {
        let cluster = try MockCluster(brokers: 3)
        try EmbeddedBroker.createTopics(on: cluster, config: config, partitions: 3)
        try cluster.createTopic(config.worker.kafka.groupId + "-notify-sent", partitions: 1)
        return cluster
    }

    private func start(_ notifier: Notifier) -> Thread {
        let thread = Thread {
            do { try notifier.run() } catch { Issue.record("notify failed: \(error)") }
        }
        thread.start()
        return thread
    }

    /// The alert ids in the messages a path received (each message names `a-k`).
    private func alertNumbers(_ requests: [WebhookServer.Request]) -> [Int] {
        requests.compactMap { r in
            let text = String(decoding: r.body, as: UTF8.self)
            guard let range = text.range(of: #"a-\d+"#, options: .regularExpression) else { return nil }
            return Int(text[range].dropFirst(2))
        }.sorted()
    }

    // MARK: without Kafka

    @Test("notify.yaml: every problem at once, each naming its entry and key")
    func configProblems() {
        let yaml = """
            webhooks:
              - {name: a, kind: pager, url: "ftp://x"}
              - {name: a, kind: slack, url: "https://hooks.slack.com/x", secret: s, rules: [lost.deal], color: red}
              - {name: c, kind: dingtalk, url_env: NOPE, severities: [urgent], rate_per_minute: 0}
            retry: {attempts: 0, timeout: soon}
            """
        do {
            _ = try NotifyConfig.parse(yaml, environment: [:])
            Issue.record("accepted")
        } catch {
            let expected = [
                "notify.yaml: webhooks[0].kind", "notify.yaml: webhooks[0].url", "notify.yaml: webhooks[1].name",
                "notify.yaml: webhooks[1].secret", "notify.yaml: webhooks[1].rules", "notify.yaml: webhooks[1].color",
                "notify.yaml: webhooks[2].url_env", "notify.yaml: webhooks[2].severities",
                "notify.yaml: webhooks[2].rate_per_minute", "notify.yaml: retry.attempts", "notify.yaml: retry.timeout",
            ]
            for prefix in expected {
                #expect(error.problems.contains { $0.hasPrefix(prefix) }, "\(prefix) in \(error.problems)")
            }
        }
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/notify.yaml")
        let config = try? NotifyConfig.load(
            path: shipped.path,
            environment: [
                "SALESPULSE_DINGTALK_URL": "https://oapi.dingtalk.com/robot/send?access_token=t",
                "SALESPULSE_DINGTALK_SECRET": "SECx",
            ])
        #expect(config?.webhooks.map(\.name) == ["sales-ops-dingtalk"])
        #expect(config?.webhooks.first?.secret == "SECx")
    }

    @Test("an alert's offset is committable only once every webhook finished it and all before it")
    func offsets() {
        var t = OffsetTracker()
        let p = TopicPartition("kpi.alerts", 0)
        t.begin(p, 10, remaining: 2)
        t.begin(p, 11, remaining: 1)
        t.begin(p, 12, remaining: 0)
        t.done(p, 11)
        #expect(t.takeCommittable().isEmpty, "10 is still in flight")
        t.done(p, 10)
        #expect(t.takeCommittable().isEmpty, "one of 10's webhooks is still in flight")
        t.done(p, 10)
        #expect(t.takeCommittable() == [p: 13])
        #expect(t.pending() == 0 && t.takeCommittable().isEmpty)
    }

    @Test("the rate limit lets a burst of rate_per_minute through, then one send per 60/rate seconds")
    func rateLimit() {
        var bucket = TokenBucket(perMinute: 1_200)
        let start = ContinuousClock.now
        for _ in 0..<1_200 { bucket.take() }
        let burst = start.duration(to: .now)
        for _ in 0..<10 { bucket.take() }
        let after = start.duration(to: .now)
        // Ten more at 20 a second take half a second (less what the burst itself took).
        #expect(burst < .milliseconds(200), "the burst waited \(burst)")
        #expect(after >= .milliseconds(450), "ten sends past the burst took only \(after)")
    }

    // MARK: on the mock cluster

    @Test(
        "notify serves /metrics, /healthz and /readyz: alerts, deliveries per webhook and outcome, ready once assigned",
        .timeLimit(.minutes(3)))
    func observability() throws {
        let config = try TestConfig.make(properties: ["session.timeout.ms": "6000"])
        let cluster = try cluster(config)
        let count = 6
        try Self.produceAlerts(0..<count, bootstrap: cluster.bootstrapServers)
        let server = try WebhookServer { path, _ in path == "/refused" ? (400, "no") : (200, "ok") }
        defer { server.shutdown() }
        var notify = NotifyConfig(webhooks: [
            .init(name: "ok", kind: .webhook, url: server.url("/ok")),
            .init(name: "refused", kind: .webhook, url: server.url("/refused")),
        ])
        notify.attempts = 1
        let registry = PrometheusCollectorRegistry()
        let health = HealthState()
        let http = try ObservabilityServer(host: "127.0.0.1", port: 0, registry: registry, health: health)
        defer { http.shutdown() }
        let base = "http://127.0.0.1:\(http.port)"
        #expect(httpGet(base + "/readyz")?.status == 503, "not ready before it has joined")
        let notifier = Notifier(
            config: config, notify: notify, bootstrap: cluster.bootstrapServers, logger: Logger(label: "notify"),
            health: health,
            metrics: NotifyMetrics(factory: PrometheusMetricsFactory(registry: registry), webhooks: ["ok", "refused"]))
        let thread = start(notifier)
        #expect(waitFor(.seconds(60)) { notifier.snapshot.sent + notifier.snapshot.deadLettered == 2 * count })
        #expect(waitFor(.seconds(30)) { httpGet(base + "/readyz")?.status == 200 })
        #expect(httpGet(base + "/healthz")?.status == 200)
        let text = httpGet(base + "/metrics")?.body ?? ""
        /// The value of the one series of `name` with every label of `labels`.
        func series(_ name: String, _ labels: [String]) -> Double? {
            let lines = text.split(separator: "\n").filter { line in
                line.hasPrefix(name + "{") && labels.allSatisfy { line.contains($0) }
            }
            return lines.count == 1 ? lines[0].split(separator: " ").last.flatMap { Double($0) } : nil
        }
        #expect(metricValue(text, "salespulse_notify_alerts_total") == Double(count), "\(text)")
        #expect(series("salespulse_notify_deliveries_total", [#"webhook="ok""#, #"outcome="sent""#]) == Double(count))
        #expect(
            series("salespulse_notify_deliveries_total", [#"webhook="refused""#, #"outcome="dead_lettered""#])
                == Double(count))
        #expect(series("salespulse_notify_deliveries_total", [#"webhook="ok""#, #"outcome="dead_lettered""#]) == 0)
        #expect(metricValue(text, "salespulse_notify_assigned_partitions") == 3)
        notifier.stop()
        #expect(waitFor(.seconds(30)) { thread.isFinished })
        #expect(httpGet(base + "/readyz")?.status == 503, "not ready once stopping")
        #expect(httpGet(base + "/healthz")?.status == 503, "not alive once stopped")
    }

    @Test(
        "alerts reach each webhook its routing matches, once, formatted and signed; a failing webhook is retried, then dead-lettered, and holds no other back",
        .timeLimit(.minutes(3)))
    func delivery() throws {
        let config = try TestConfig.make(properties: ["session.timeout.ms": "6000"])
        let cluster = try cluster(config)
        let count = 18
        try Self.produceAlerts(0..<count, bootstrap: cluster.bootstrapServers)
        let server = try WebhookServer { path, n in
            switch path {
            case "/ding": n <= 2 ? (500, "busy") : (200, #"{"errcode":0,"errmsg":"ok"}"#)
            case "/feishu": (200, #"{"code":0,"msg":"success"}"#)
            case "/wecom": (200, #"{"errcode":0}"#)
            case "/refused": (400, #"{"error":"bad token"}"#)
            default: (200, "ok")
            }
        }
        defer { server.shutdown() }
        let hole = try BlackHole()
        defer { hole.close() }
        var notify = NotifyConfig(webhooks: [
            .init(name: "ding", kind: .dingtalk, url: server.url("/ding") + "?access_token=t", secret: "SECding"),
            .init(name: "feishu", kind: .feishu, url: server.url("/feishu"), secret: "feishu-secret"),
            .init(name: "wecom", kind: .wecom, url: server.url("/wecom")),
            .init(name: "slack", kind: .slack, url: server.url("/slack")),
            .init(name: "generic", kind: .webhook, url: server.url("/generic")),
            .init(name: "refused", kind: .webhook, url: server.url("/refused")),
            // Accepts connections and never answers: every try waits out the timeout.
            .init(name: "hole", kind: .webhook, url: "http://127.0.0.1:\(hole.port)/x"),
        ])
        notify.webhooks[0].rules = ["target.slipping"]
        notify.webhooks[1].regions = ["east"]
        notify.webhooks[2].severities = ["critical"]
        notify.attempts = 3
        notify.initialBackoffMillis = 50
        notify.timeoutMillis = 1_000
        let notifier = Notifier(
            config: config, notify: notify, bootstrap: cluster.bootstrapServers, logger: Logger(label: "notify"))
        let thread = start(notifier)
        _ = thread

        let all = Array(0..<count)
        let expected: [String: [Int]] = [
            "/ding": all.filter { Self.alert($0).rule == "target.slipping" },
            "/feishu": all.filter { Self.alert($0).region == "east" },
            "/wecom": all.filter { Self.alert($0).severity == "critical" },
            "/slack": all, "/generic": all,
        ]
        #expect(
            waitFor(.seconds(60)) {
                expected.allSatisfy { alertNumbers(server.requests(to: $0.key)).count >= $0.value.count }
            })
        // Every other webhook is done while the one that never answers is still working through
        // its alerts, a second each.
        let holeDone = notifier.snapshot.deadLettered
        #expect(holeDone < count + count, "dead letters so far: \(holeDone)")
        for (path, numbers) in expected {
            let got = alertNumbers(server.requests(to: path))
            // DingTalk answered 500 twice: those two were tried again, so it saw two more requests.
            #expect(
                Set(got) == Set(numbers) && got.count == numbers.count + (path == "/ding" ? 2 : 0), "\(path): \(got)")
        }
        #expect(waitFor(.seconds(60)) { notifier.snapshot.deadLettered == 2 * count })
        #expect(notifier.snapshot.sent == expected.values.reduce(0) { $0 + $1.count })

        // Formats and signatures, checked against each vendor's documented scheme.
        let ding = try #require(server.requests(to: "/ding").last)
        var query: [String: String] = [:]
        for pair in ding.query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            query[kv[0]] = kv.count > 1 ? kv[1].removingPercentEncoding : ""
        }
        let timestamp = try #require(query["timestamp"])
        let dingKey = SymmetricKey(data: Data("SECding".utf8))
        let dingSign = Data(HMAC<SHA256>.authenticationCode(for: Data("\(timestamp)\nSECding".utf8), using: dingKey))
        #expect(query["access_token"] == "t" && query["sign"] == dingSign.base64EncodedString())
        #expect(ding.json?["msgtype"] as? String == "text")
        #expect(((ding.json?["text"] as? [String: Any])?["content"] as? String)?.contains("target.slipping") == true)
        let feishu = try #require(server.requests(to: "/feishu").first?.json)
        let seconds = try #require(feishu["timestamp"] as? String)
        let feishuKey = SymmetricKey(data: Data("\(seconds)\nfeishu-secret".utf8))
        let feishuSign = Data(HMAC<SHA256>.authenticationCode(for: Data(), using: feishuKey))
        #expect(
            feishu["sign"] as? String == feishuSign.base64EncodedString() && feishu["msg_type"] as? String == "text")
        #expect(((feishu["content"] as? [String: Any])?["text"] as? String)?.contains("区域 east") == true)
        #expect(server.requests(to: "/wecom").first?.json?["msgtype"] as? String == "text")
        #expect((server.requests(to: "/slack").first?.json?["text"] as? String)?.contains("a-") == true)
        let generic = Set(server.requests(to: "/generic").map { String(decoding: $0.body, as: UTF8.self) })
        #expect(generic == Set(all.map { Self.alert($0).json }), "the generic webhook gets the alert as published")
        // The refused request was not repeated: a 400 will not get better.
        #expect(server.requests(to: "/refused").count == count)

        notifier.stop()
        #expect(waitFor(.seconds(30)) { thread.isFinished })
        // Dead letters: each alert once per failed webhook, with the reason and the webhook.
        let dead = try TopicReader.readAll(bootstrap: cluster.bootstrapServers, topics: ["kpi.dlq"])
        #expect(dead.count == 2 * count)
        #expect(dead.allSatisfy { $0.headers["reason"] == "notify_failed" })
        #expect(Set(dead.map { $0.headers["webhook"] ?? "" }) == ["refused", "hole"])
        #expect(
            dead.filter { $0.headers["webhook"] == "refused" }.allSatisfy {
                $0.headers["detail"]?.contains("HTTP 400") == true
            })
        // Every alert handled: the group committed to the end of every partition.
        let marks = try TopicReader.highWatermarks(bootstrap: cluster.bootstrapServers, topics: ["kpi.alerts"])
        let committed = try TopicReader.committed(
            bootstrap: cluster.bootstrapServers, group: "salespulse-test.notify", partitions: Array(marks.keys))
        #expect(marks.values.contains { $0.high > 0 })
        for (tp, mark) in marks where mark.high > 0 { #expect(committed[tp] == mark.high, "\(tp)") }
    }

    @Test(
        "after a crash before any commit, the restarted notifier re-reads every alert and sends none twice",
        .timeLimit(.minutes(3)))
    func restartSendsNothingTwice() throws {
        let config = try TestConfig.make(properties: ["session.timeout.ms": "6000"])
        let cluster = try cluster(config)
        let first = 12
        try Self.produceAlerts(0..<first, bootstrap: cluster.bootstrapServers)
        let server = try WebhookServer { path, _ in path == "/ding" ? (200, #"{"errcode":0}"#) : (200, "ok") }
        defer { server.shutdown() }
        let notify = NotifyConfig(webhooks: [
            .init(name: "ding", kind: .dingtalk, url: server.url("/ding")),
            .init(name: "slack", kind: .slack, url: server.url("/slack")),
        ])
        // The first instance never reaches a commit: a crash right after delivering.
        let crashed = Notifier(
            config: config, notify: notify, bootstrap: cluster.bootstrapServers, logger: Logger(label: "notify"),
            commitIntervalMillis: 3_600_000)
        let thread = start(crashed)
        #expect(waitFor(.seconds(60)) { crashed.snapshot.sent == 2 * first })
        crashed.halt()
        #expect(waitFor(.seconds(30)) { thread.isFinished })
        let partitions = (0..<3).map { TopicPartition("kpi.alerts", Int32($0)) }
        let committed = try TopicReader.committed(
            bootstrap: cluster.bootstrapServers, group: "salespulse-test.notify", partitions: partitions)
        #expect(committed.values.allSatisfy { $0 < 0 }, "nothing committed: \(committed)")

        let restarted = Notifier(
            config: config, notify: notify, bootstrap: cluster.bootstrapServers, logger: Logger(label: "notify"))
        let thread2 = start(restarted)
        // It reads every alert again and finds each (alert, webhook) in the ledger.
        #expect(waitFor(.seconds(60)) { restarted.snapshot.alreadyHandled == 2 * first })
        #expect(restarted.snapshot.alerts == first && restarted.snapshot.sent == 0)
        try Self.produceAlerts(first..<(first + 5), bootstrap: cluster.bootstrapServers)
        #expect(waitFor(.seconds(60)) { restarted.snapshot.sent == 10 })
        restarted.stop()
        #expect(waitFor(.seconds(30)) { thread2.isFinished })
        for path in ["/ding", "/slack"] {
            #expect(alertNumbers(server.requests(to: path)) == Array(0..<(first + 5)), "\(path)")
        }
    }
}

extension NotifyTests {
    @Test(
        "a second instance joining takes partitions and work; across the rebalance every alert is sent once",
        .timeLimit(.minutes(3)))
    func rebalance() throws {
        let config = try TestConfig.make(properties: ["session.timeout.ms": "6000"])
        let cluster = try cluster(config)
        try Self.produceAlerts(0..<12, bootstrap: cluster.bootstrapServers)
        let server = try WebhookServer { _, _ in (200, "ok") }
        defer { server.shutdown() }
        let notify = NotifyConfig(webhooks: [.init(name: "slack", kind: .slack, url: server.url("/slack"))])
        func notifier() -> Notifier {
            Notifier(
                config: config, notify: notify, bootstrap: cluster.bootstrapServers, logger: Logger(label: "notify"))
        }
        let a = notifier()
        let threadA = start(a)
        #expect(waitFor(.seconds(60)) { a.snapshot.sent == 12 })
        let b = notifier()
        let threadB = start(b)
        #expect(waitFor(.seconds(60)) { b.snapshot.assignedPartitions > 0 && a.snapshot.assignedPartitions > 0 })
        #expect(a.snapshot.assignedPartitions + b.snapshot.assignedPartitions == 3)
        try Self.produceAlerts(12..<40, bootstrap: cluster.bootstrapServers)
        #expect(waitFor(.seconds(60)) { a.snapshot.sent + b.snapshot.sent >= 40 })
        #expect(b.snapshot.sent > 0, "the newcomer delivered alerts of its partitions")
        a.stop()
        b.stop()
        #expect(waitFor(.seconds(30)) { threadA.isFinished && threadB.isFinished })
        #expect(alertNumbers(server.requests(to: "/slack")) == Array(0..<40))
    }
}

/// A TCP port that accepts connections (the kernel completes them into the backlog) and never
/// answers: a webhook that hangs.
final class BlackHole: Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 128) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(fd) }
}
