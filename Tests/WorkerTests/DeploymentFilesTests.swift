import Foundation
import Kafka
import Prometheus
import TestSupport
import Testing
import Yams

@testable import Worker

/// The files in deploy/ checked against what they claim: the Kubernetes objects against the
/// "restricted" Pod Security Standard and against each other, and every metric the dashboard
/// and the alert rules use against a running worker's /metrics.
@Suite("Deployment files", .serialized)
struct DeploymentFilesTests {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy")

    /// Every YAML document of every file in deploy/kubernetes.
    private func kubernetesObjects() throws -> [[String: Any]] {
        let folder = Self.deploy.appendingPathComponent("kubernetes")
        var objects: [[String: Any]] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        where name.hasSuffix(".yaml") {
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            for document in try Yams.load_all(yaml: text) {
                objects.append(try #require(document as? [String: Any], "\(name): not a mapping"))
            }
        }
        return objects
    }

    private func object(_ objects: [[String: Any]], kind: String) throws -> [String: Any] {
        try #require(objects.first { $0["kind"] as? String == kind }, "no \(kind) in deploy/kubernetes")
    }

    /// The rules of https://kubernetes.io/docs/concepts/security/pod-security-standards/
    /// (baseline and restricted) a pod spec breaks, plus a writable root filesystem.
    static func restrictedViolations(_ pod: [String: Any]) -> [String] {
        var out: [String] = []
        let podContext = pod["securityContext"] as? [String: Any] ?? [:]
        for key in ["hostNetwork", "hostPID", "hostIPC"] where pod[key] as? Bool == true { out.append("\(key)") }
        let allowedVolumes: Set = [
            "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
        ]
        for volume in pod["volumes"] as? [[String: Any]] ?? [] {
            for key in volume.keys where key != "name" && !allowedVolumes.contains(key) {
                out.append("volume \(volume["name"] ?? "?") of type \(key)")
            }
        }
        let seccompType = { (c: [String: Any]) in (c["seccompProfile"] as? [String: Any])?["type"] as? String }
        let containers =
            (pod["containers"] as? [[String: Any]] ?? []) + (pod["initContainers"] as? [[String: Any]] ?? [])
        if containers.isEmpty { out.append("no containers") }
        for container in containers {
            let name = container["name"] as? String ?? "?"
            let c = container["securityContext"] as? [String: Any] ?? [:]
            if c["privileged"] as? Bool == true { out.append("\(name): privileged") }
            if c["allowPrivilegeEscalation"] as? Bool != false {
                out.append("\(name): allowPrivilegeEscalation not false")
            }
            if (c["runAsNonRoot"] ?? podContext["runAsNonRoot"]) as? Bool != true {
                out.append("\(name): runAsNonRoot")
            }
            if (c["runAsUser"] ?? podContext["runAsUser"]) as? Int == 0 { out.append("\(name): runAsUser 0") }
            let seccomp = seccompType(c) ?? seccompType(podContext)
            if !["RuntimeDefault", "Localhost"].contains(seccomp ?? "") {
                out.append("\(name): seccompProfile \(seccomp ?? "unset")")
            }
            let capabilities = c["capabilities"] as? [String: Any] ?? [:]
            if !(capabilities["drop"] as? [String] ?? []).contains("ALL") {
                out.append("\(name): capabilities not dropped")
            }
            for added in capabilities["add"] as? [String] ?? [] where added != "NET_BIND_SERVICE" {
                out.append("\(name): adds \(added)")
            }
            for port in container["ports"] as? [[String: Any]] ?? [] where port["hostPort"] != nil {
                out.append("\(name): hostPort")
            }
            if c["readOnlyRootFilesystem"] as? Bool != true { out.append("\(name): writable root filesystem") }
        }
        return out
    }

    @Test("the restricted-profile check catches what it names")
    func checkCatches() {
        let good: [String: Any] = [
            "securityContext": ["runAsNonRoot": true, "seccompProfile": ["type": "RuntimeDefault"]],
            "containers": [
                [
                    "name": "w",
                    "securityContext": [
                        "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                        "capabilities": ["drop": ["ALL"]],
                    ],
                ]
            ],
        ]
        #expect(Self.restrictedViolations(good).isEmpty)
        var root = good
        root["securityContext"] = ["runAsNonRoot": true, "runAsUser": 0, "seccompProfile": ["type": "Unconfined"]]
        root["volumes"] = [["name": "h", "hostPath": ["path": "/"]]]
        root["hostNetwork"] = true
        #expect(
            Set(Self.restrictedViolations(root)) == [
                "hostNetwork", "volume h of type hostPath", "w: runAsUser 0", "w: seccompProfile Unconfined",
            ])
        #expect(Self.restrictedViolations(["containers": [["name": "w"]]]).count == 5)
    }

    @Test("both Deployments pass the restricted Pod Security profile and the other objects fit them")
    func kubernetesFiles() throws {
        let objects = try kubernetesObjects()
        let deployments = objects.filter { $0["kind"] as? String == "Deployment" }
        #expect(deployments.count == 2)
        for d in deployments {
            let pod = ((d["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any] ?? [:]
            #expect(Self.restrictedViolations(pod) == [], "\((d["metadata"] as? [String: Any])?["name"] ?? "?")")
            // Worker and notify refuse to start without brokers: each Deployment must name them.
            let env = ((pod["containers"] as? [[String: Any]])?.first?["env"] as? [[String: Any]]) ?? []
            #expect(
                env.contains { $0["name"] as? String == "SALESPULSE_KAFKA_BROKERS" && !"\($0["value"] ?? "")".isEmpty })
        }
        let deployment = try #require(
            deployments.first { ($0["metadata"] as? [String: Any])?["name"] as? String == "salespulse" })
        let spec = try #require(deployment["spec"] as? [String: Any])
        let template = try #require(spec["template"] as? [String: Any])
        let pod = try #require(template["spec"] as? [String: Any])
        #expect(Self.restrictedViolations(pod) == [])

        let podLabels = try #require((template["metadata"] as? [String: Any])?["labels"] as? [String: String])
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let portNames = (container["ports"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        // Memory: at least the highest peak measured (README, Performance).
        let requests = (container["resources"] as? [String: Any])?["requests"] as? [String: Any]
        let memory = try #require(requests?["memory"] as? String)
        #expect(memory.hasSuffix("Mi") && Int(memory.dropLast(2))! >= 861)

        let service = try object(objects, kind: "Service")
        let serviceSpec = try #require(service["spec"] as? [String: Any])
        #expect(serviceSpec["selector"] as? [String: String] == podLabels)
        let servicePorts = try #require(serviceSpec["ports"] as? [[String: Any]])
        #expect(servicePorts.allSatisfy { portNames.contains($0["targetPort"] as? String ?? "") })

        let monitor = try object(objects, kind: "PodMonitor")
        let monitorSpec = try #require(monitor["spec"] as? [String: Any])
        let selector = (monitorSpec["selector"] as? [String: Any])?["matchLabels"] as? [String: String]
        #expect(selector.map { $0.allSatisfy { podLabels[$0.key] == $0.value } } == true)
        let endpoints = try #require(monitorSpec["podMetricsEndpoints"] as? [[String: Any]])
        #expect(
            endpoints.allSatisfy {
                portNames.contains($0["port"] as? String ?? "") && $0["path"] as? String == "/metrics"
            })

        // notify.yaml in the ConfigMap is valid with the variables the notify Deployment sets.
        let notifyPod = try #require(
            deployments.first { ($0["metadata"] as? [String: Any])?["name"] as? String == "salespulse-notify" })
        let notifyEnv =
            ((((notifyPod["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])?[
                "containers"] as? [[String: Any]])?.first?["env"] as? [[String: Any]] ?? []
        var environment: [String: String] = [:]
        for variable in notifyEnv {
            if let name = variable["name"] as? String { environment[name] = "https://example.com/set-from-secret" }
        }
        let configMap = try object(objects, kind: "ConfigMap")
        let notifyYAML = try #require((configMap["data"] as? [String: String])?["notify.yaml"])
        #expect(throws: Never.self) { try NotifyConfig.parse(notifyYAML, environment: environment) }

        let rules = try object(objects, kind: "PrometheusRule")
        let groups = try #require((rules["spec"] as? [String: Any])?["groups"] as? [[String: Any]])
        let alerts = groups.flatMap { $0["rules"] as? [[String: Any]] ?? [] }
        #expect(alerts.count >= 10)
        for alert in alerts {
            #expect(alert["alert"] is String && alert["expr"] is String, "\(alert)")
            #expect((alert["labels"] as? [String: String])?["severity"] != nil, "\(alert["alert"] ?? "?")")
        }
    }

    @Test("docker-compose's workers name their brokers")
    func composeFile() throws {
        let text = try String(contentsOf: Self.deploy.appendingPathComponent("docker-compose.yml"), encoding: .utf8)
        let services = try #require((try Yams.load(yaml: text) as? [String: Any])?["services"] as? [String: Any])
        let workers = services.filter { (($0.value as? [String: Any])?["command"] as? [String])?.first == "run" }
        #expect(workers.count == 2)
        for (name, value) in workers {
            let environment = (value as? [String: Any])?["environment"] as? [String: Any]
            #expect(environment?["SALESPULSE_KAFKA_BROKERS"] as? String == "kafka:9092", "\(name)")
        }
    }

    /// Every `salespulse_*` name in the dashboard's queries and the alert rules' expressions.
    private func metricsUsed() throws -> Set<String> {
        let dashboard = try String(
            contentsOf: Self.deploy.appendingPathComponent("grafana/salespulse.json"), encoding: .utf8)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(dashboard.utf8)) as? [String: Any])
        var expressions: [String] = []
        for panel in json["panels"] as? [[String: Any]] ?? [] {
            expressions += (panel["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String }
        }
        #expect(expressions.count >= 14)
        let rules = try object(try kubernetesObjects(), kind: "PrometheusRule")
        for group in (rules["spec"] as? [String: Any])?["groups"] as? [[String: Any]] ?? [] {
            expressions += (group["rules"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String }
        }
        let name = /salespulse_[a-z_]+/
        return Set(expressions.flatMap { $0.matches(of: name).map { String($0.output) } })
    }

    @Test(
        "every metric the dashboard and the alert rules use is on a running worker's /metrics", .timeLimit(.minutes(3)))
    func metricsExist() throws {
        let used = try metricsUsed()
        #expect(used.count >= 20, "\(used.sorted())")
        let cluster = try MockCluster(brokers: 3)
        let config = try TestConfig.make()
        try EmbeddedBroker.createTopics(on: cluster, config: config, partitions: 3)
        var generator = ScenarioGenerator(seed: 13, days: 20)
        let good = generator.generate().bulk.filter { if case .good = $0.kind { true } else { false } }
        try produce(good, bootstrap: cluster.bootstrapServers)
        let registry = PrometheusCollectorRegistry()
        let health = HealthState()
        let server = try ObservabilityServer(host: "127.0.0.1", port: 0, registry: registry, health: health)
        defer { server.shutdown() }
        let harness = PipelineHarness(
            config: config, bootstrap: cluster.bootstrapServers,
            metrics: PipelineMetrics(factory: PrometheusMetricsFactory(registry: registry)), health: health)
        harness.start()
        defer { harness.stop() }
        try #require(harness.wait(timeout: .seconds(60)) { $0.consumed == good.count && $0.isSettled })
        var missing: [String] = []
        let deadline = ContinuousClock.now + .seconds(10)
        repeat {
            let lines = (httpGet("http://127.0.0.1:\(server.port)/metrics")?.body ?? "").split(separator: "\n")
            let present = Set(lines.filter { !$0.hasPrefix("#") }.map { String($0.prefix { $0 != "{" && $0 != " " }) })
            missing = used.filter { !present.contains($0) }.sorted()
            if missing.isEmpty { break }
            Thread.sleep(forTimeInterval: 0.2)
        } while ContinuousClock.now < deadline
        #expect(missing == [], "used by deploy/ but not on /metrics")
    }
}
