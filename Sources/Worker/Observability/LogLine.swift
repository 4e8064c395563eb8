import Foundation
import Logging
import SalesKPI

/// What the two log formats (`JSONLogHandler`, `TextLogHandler`) share: where lines go, the
/// time stamp, and how a line's metadata is gathered.
package enum LogLine {
    package static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// The wall clock as RFC 3339 UTC with milliseconds.
    package static func timestamp() -> String { Timestamp.format(Pipeline.wallClock()) }

    /// The handler's own metadata, then the provider's, then the event's: later ones win.
    package static func metadata(
        _ own: Logger.Metadata, _ provider: Logger.MetadataProvider?, _ event: Logger.Metadata?
    ) -> Logger.Metadata {
        var all = own
        if let provided = provider?.get() { all.merge(provided) { _, new in new } }
        if let event { all.merge(event) { _, new in new } }
        return all
    }
}
