/// One window instance: a half-open event-time interval `[start, end)` of a configured kind.
package struct Window: Hashable, Sendable, Comparable, Codable {
    /// Index into the configured window specs.
    package var kind: UInt8
    package var start: EpochMillis
    package var end: EpochMillis

    package init(kind: UInt8, start: EpochMillis, end: EpochMillis) {
        self.kind = kind
        self.start = start
        self.end = end
    }

    package func contains(_ t: EpochMillis) -> Bool { t >= start && t < end }

    /// Orders by end first so closing windows in order is a prefix scan.
    package static func < (a: Window, b: Window) -> Bool {
        (a.end, a.start, a.kind) < (b.end, b.start, b.kind)
    }
}
