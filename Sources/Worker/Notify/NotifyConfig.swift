import Foundation
import SalesKPI
import Yams

/// `config/notify.yaml`: where `salespulse notify` delivers alerts (docs/notify.md).
package struct NotifyConfig: Sendable {
    package struct Webhook: Sendable, Equatable {
        package enum Kind: String, Sendable, CaseIterable {
            case dingtalk, feishu, wecom, slack, webhook
        }

        package var name: String
        package var kind: Kind
        package var url: String
        /// The signing secret of a DingTalk or Feishu robot with signing on.
        package var secret: String?
        /// Routing: empty means every rule, severity or region (`company` for company alerts).
        package var rules: Set<String> = []
        package var severities: Set<String> = []
        package var regions: Set<String> = []
        package var ratePerMinute = 20

        package func accepts(_ alert: AlertNotice) -> Bool {
            (rules.isEmpty || rules.contains(alert.rule))
                && (severities.isEmpty || severities.contains(alert.severity))
                && (regions.isEmpty || regions.contains(alert.region ?? "company"))
        }
    }

    package var webhooks: [Webhook] = []
    /// Tries per alert and webhook before it is dead-lettered as `notify_failed`.
    package var attempts = 5
    package var initialBackoffMillis: Int64 = 500
    package var maxBackoffMillis: Int64 = 30_000
    package var timeoutMillis: Int64 = 10_000

    package init(webhooks: [Webhook] = []) { self.webhooks = webhooks }

    /// Reads and validates the file, reporting every problem at once. `*_env` keys take a value
    /// from the environment, so URLs with tokens and secrets can come from a Kubernetes Secret.
    package static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> NotifyConfig {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else { throw ConfigError(["notify.yaml: cannot be read (\(path))"]) }
        return try parse(text, environment: environment)
    }

    package static func parse(_ text: String, environment: [String: String] = [:]) throws(ConfigError) -> NotifyConfig {
        var problems: [String] = []
        func problem(_ key: String, _ text: String) { problems.append("notify.yaml: \(key): \(text)") }
        let root: [String: Any]
        do {
            guard let loaded = try Yams.load(yaml: text) as? [String: Any] else {
                throw ConfigError(["notify.yaml: expected a mapping with `webhooks`"])
            }
            root = loaded
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(["notify.yaml: not valid YAML: \(error)"])
        }
        var config = NotifyConfig()
        for key in root.keys where !["webhooks", "retry"].contains(key) { problem(key, "unknown key") }
        func duration(_ key: String, _ value: Any?, _ fallback: Int64) -> Int64 {
            guard let value else { return fallback }
            guard let ms = WindowSpec.parseDuration("\(value)") else {
                problem(key, "'\(value)' is not a duration such as 500ms, 30s or 1m")
                return fallback
            }
            return ms
        }
        if let retry = root["retry"] {
            if let retry = retry as? [String: Any] {
                for key in retry.keys where !["attempts", "initial_backoff", "max_backoff", "timeout"].contains(key) {
                    problem("retry.\(key)", "unknown key")
                }
                if let attempts = retry["attempts"] {
                    if let n = attempts as? Int, (1...20).contains(n) {
                        config.attempts = n
                    } else {
                        problem("retry.attempts", "must be between 1 and 20")
                    }
                }
                config.initialBackoffMillis = duration("retry.initial_backoff", retry["initial_backoff"], 500)
                config.maxBackoffMillis = duration("retry.max_backoff", retry["max_backoff"], 30_000)
                config.timeoutMillis = duration("retry.timeout", retry["timeout"], 10_000)
            } else {
                problem("retry", "expected a mapping")
            }
        }
        let entries = root["webhooks"] as? [Any] ?? []
        if entries.isEmpty { problem("webhooks", "at least one webhook is needed") }
        let keys: Set = [
            "name", "kind", "url", "url_env", "secret", "secret_env", "rules", "severities", "regions",
            "rate_per_minute",
        ]
        for (k, entry) in entries.enumerated() {
            let at = "webhooks[\(k)]"
            guard let e = entry as? [String: Any] else {
                problem(at, "expected a mapping")
                continue
            }
            for key in e.keys where !keys.contains(key) { problem("\(at).\(key)", "unknown key") }
            func text(_ key: String) -> String? {
                if let name = e[key + "_env"] {
                    guard let value = environment["\(name)"], !value.isEmpty else {
                        problem("\(at).\(key)_env", "environment variable \(name) is not set")
                        return nil
                    }
                    return value
                }
                return e[key].map { "\($0)" }
            }
            func list(_ key: String) -> Set<String> {
                guard let value = e[key] else { return [] }
                guard let items = value as? [Any] else {
                    problem("\(at).\(key)", "expected a list")
                    return []
                }
                return Set(items.map { "\($0)" })
            }
            let name = e["name"].map { "\($0)" } ?? ""
            if name.isEmpty { problem("\(at).name", "is needed") }
            if config.webhooks.contains(where: { $0.name == name }) { problem("\(at).name", "'\(name)' is used twice") }
            let kindText = e["kind"].map { "\($0)" } ?? ""
            let kind = Webhook.Kind(rawValue: kindText)
            if kind == nil {
                problem("\(at).kind", "'\(kindText)' is not dingtalk, feishu, wecom, slack or webhook")
            }
            let url = text("url") ?? ""
            if !(url.hasPrefix("https://") || url.hasPrefix("http://")) || URL(string: url)?.host == nil {
                problem("\(at).url", "must be an http(s) URL")
            }
            let secret = text("secret")
            if secret != nil, kind != .dingtalk, kind != .feishu {
                problem("\(at).secret", "only DingTalk and Feishu robots sign requests")
            }
            var webhook = Webhook(name: name, kind: kind ?? .webhook, url: url, secret: secret)
            webhook.rules = list("rules")
            for rule in webhook.rules where Alert.Rule(rawValue: rule) == nil {
                problem("\(at).rules", "'\(rule)' is not target.slipping, target.recovered or cac.spike")
            }
            webhook.severities = list("severities")
            for severity in webhook.severities where !["info", "warning", "critical"].contains(severity) {
                problem("\(at).severities", "'\(severity)' is not info, warning or critical")
            }
            webhook.regions = list("regions")
            if let rate = e["rate_per_minute"] {
                if let n = rate as? Int, (1...6000).contains(n) {
                    webhook.ratePerMinute = n
                } else {
                    problem("\(at).rate_per_minute", "must be between 1 and 6000")
                }
            }
            config.webhooks.append(webhook)
        }
        guard problems.isEmpty else { throw ConfigError(problems) }
        return config
    }
}
