import Foundation
import Logging
import SalesKPI

/// Structured logs: one JSON object per line with stable keys (`ts`, `level`, `logger`, `msg`,
/// `source`, then the metadata), and every configured secret value scrubbed from the whole line.
package struct JSONLogHandler: LogHandler {
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?
    package var logLevel: Logger.Level = .info
    private let label: String
    private let scrubber: SecretScrubber
    private let sink: @Sendable (String) -> Void

    /// `sink` receives each finished line (standard error by default).
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
        var w = JSONWriter()
        w.beginObject()
        w.field("ts", LogLine.timestamp())
        w.field("level", event.level.rawValue)
        w.field("logger", label)
        w.field("msg", scrubber.scrub(event.message.description))
        w.field("source", event.source)
        for key in all.keys.sorted() where !["ts", "level", "logger", "msg", "source"].contains(key) {
            w.field(dynamic: key, scrubber.scrub(all[key]!.description))
        }
        w.endObject()
        sink(w.text)
    }
}
