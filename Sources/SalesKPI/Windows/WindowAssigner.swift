/// Maps an event time to the windows it belongs to, for every configured window kind.
///
/// Calendar intervals are cached per kind: consecutive events almost always fall in the window
/// the previous one did, so Foundation's calendar is consulted once per window, not per event.
package struct WindowAssigner: Sendable {
    package let specs: [WindowSpec]
    package let calendar: BusinessCalendar
    private var cache: [(start: EpochMillis, end: EpochMillis)]

    package init(specs: [WindowSpec], calendar: BusinessCalendar) {
        precondition(specs.count < 256, "window kinds are indexed by UInt8")
        self.specs = specs
        self.calendar = calendar
        cache = Array(repeating: (0, 0), count: specs.count)
    }

    /// Appends every window containing `t` to `into`.
    /// The latest time at or before `t` at which a window of any kind can start: every window
    /// start is one, so changes between two of them are indistinguishable to windows.
    package mutating func latestBoundary(atOrBefore t: EpochMillis) -> EpochMillis {
        var latest = EpochMillis.min
        for k in specs.indices {
            switch specs[k] {
            case .fixed(let size): latest = max(latest, Timestamp.floorDiv(t, size) * size)
            case .hopping(_, let hop): latest = max(latest, Timestamp.floorDiv(t, hop) * hop)
            case .calendar(let unit):
                if !(t >= cache[k].start && t < cache[k].end) { cache[k] = calendar.interval(unit, containing: t) }
                latest = max(latest, cache[k].start)
            }
        }
        return latest == .min ? t : latest
    }

    package mutating func windows(containing t: EpochMillis, into out: inout [Window]) {
        for k in specs.indices {
            let kind = UInt8(k)
            switch specs[k] {
            case .fixed(let size):
                let start = Timestamp.floorDiv(t, size) * size
                out.append(Window(kind: kind, start: start, end: start + size))
            case .hopping(let size, let hop):
                var start = Timestamp.floorDiv(t, hop) * hop
                while start > t - size {
                    out.append(Window(kind: kind, start: start, end: start + size))
                    start -= hop
                }
            case .calendar(let unit):
                let cached = cache[k]
                if t >= cached.start && t < cached.end {
                    out.append(Window(kind: kind, start: cached.start, end: cached.end))
                } else {
                    let fresh = calendar.interval(unit, containing: t)
                    cache[k] = fresh
                    out.append(Window(kind: kind, start: fresh.start, end: fresh.end))
                }
            }
        }
    }

    package func name(of kind: UInt8) -> String { specs[Int(kind)].name }
}
