/// Open windows grouped by end time, so closing everything the watermark passed is a prefix scan.
struct CloseSchedule: Sendable {
    private var byEnd: [EpochMillis: [(ScopeKey, Window)]] = [:]
    private var ends: [EpochMillis] = []

    mutating func schedule(_ scope: ScopeKey, _ window: Window) {
        if byEnd[window.end] == nil {
            var lo = 0
            var hi = ends.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if ends[mid] < window.end { lo = mid + 1 } else { hi = mid }
            }
            ends.insert(window.end, at: lo)
        }
        byEnd[window.end, default: []].append((scope, window))
    }

    /// The earliest end of any open window.
    var nextEnd: EpochMillis? { ends.first }

    /// Removes and returns the windows ending at the earliest end.
    mutating func popEarliest() -> [(ScopeKey, Window)] {
        guard !ends.isEmpty else { return [] }
        let end = ends.removeFirst()
        return byEnd.removeValue(forKey: end) ?? []
    }
}
