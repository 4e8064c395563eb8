/// Hides secret librdkafka properties wherever configuration is shown or logged.
package enum SecretRedaction {
    package static let placeholder = "[REDACTED]"

    /// By pattern, so properties added later are covered too: `*password*`, `*secret*`,
    /// `*token*`, `*jaas*`, `sasl.oauthbearer.config` (it may carry client credentials) and
    /// every `ssl.key*` (the key itself, its password, the keystore and its password; a path
    /// among them is hidden too, which costs nothing).
    package static func isSecret(_ key: String) -> Bool {
        let k = key.lowercased()
        return k.contains("password") || k.contains("secret") || k.contains("jaas") || k.contains("token")
            || k == "sasl.oauthbearer.config" || k.hasPrefix("ssl.key") || k == "ssl_key"
    }

    /// The values of `properties`' secret entries, for log handlers to scrub from every line.
    package static func secretValues(_ properties: [String: String]) -> [String] {
        properties.filter { isSecret($0.key) }.map(\.value)
    }

    package static func redact(_ properties: [String: String]) -> [String: String] {
        properties.reduce(into: [:]) { out, entry in out[entry.key] = isSecret(entry.key) ? placeholder : entry.value }
    }
}
