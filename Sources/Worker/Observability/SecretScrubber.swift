/// Replaces every configured secret value in a log line, whatever put it there (a property
/// echoed by librdkafka, an error message, metadata), for every log format.
package struct SecretScrubber: Sendable {
    private let secrets: [String]

    /// Values shorter than three characters are left alone: scrubbing them would mangle lines.
    package init(secrets: [String]) { self.secrets = secrets.filter { $0.count >= 3 } }

    package func scrub(_ line: String) -> String {
        var line = line
        for secret in secrets where line.contains(secret) {
            line = line.replacingOccurrences(of: secret, with: SecretRedaction.placeholder)
        }
        return line
    }
}
