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

    /// Encoded as `[kind, start, end]`: windows are in every state and rollup record.
    package func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(kind)
        try c.encode(start)
        try c.encode(end)
    }

    package init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        kind = try c.decode(UInt8.self)
        start = try c.decode(EpochMillis.self)
        end = try c.decode(EpochMillis.self)
    }

    /// Orders by end first so closing windows in order is a prefix scan.
    package static func < (a: Window, b: Window) -> Bool {
        (a.end, a.start, a.kind) < (b.end, b.start, b.kind)
    }
}
