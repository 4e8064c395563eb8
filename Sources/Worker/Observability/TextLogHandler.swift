import Foundation
import Logging
import SalesKPI

/// Human-readable logs (`log_format: text`): `ts level logger: msg key=value …`, one line per
/// event, with every configured secret value scrubbed, as in the JSON format.
package struct TextLogHandler: LogHandler {
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?
    package var logLevel: Logger.Level = .info
    private let label: String
    private let scrubber: SecretScrubber
    private let sink: @Sendable (String) -> Void

    package init(
        label: String, secrets: [String], sink: @escaping @Sendable (String) -> Void = LogLine.standardError
    ) {
        self.label = label
        scrubber = SecretScrubber(secrets: secrets)
        self.sink = sink
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        let all = LogLine.metadata(metadata, metadataProvider, event.metadata)
        var line = LogLine.timestamp()
        line += " \(event.level.rawValue) \(label): \(event.message.description)"
        for key in all.keys.sorted() { line += " \(key)=\(all[key]!.description)" }
        sink(scrubber.scrub(line))
    }
}
