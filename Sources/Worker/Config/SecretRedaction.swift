/// Hides secret librdkafka properties wherever configuration is shown or logged.
package enum SecretRedaction {
    package static let placeholder = "[REDACTED]"

    package static func isSecret(_ key: String) -> Bool {
        let k = key.lowercased()
        // ssl.key.pem holds the private key itself; ssl.key.location is only a path.
        return k.contains("password") || k.contains("secret") || k.contains("jaas") || k.contains("token")
            || k == "ssl.key.pem" || k == "ssl_key"
    }

    package static func redact(_ properties: [String: String]) -> [String: String] {
        properties.reduce(into: [:]) { out, entry in out[entry.key] = isSecret(entry.key) ? placeholder : entry.value }
    }
}
