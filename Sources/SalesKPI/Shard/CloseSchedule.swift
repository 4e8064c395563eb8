/// The distinct end times of open windows, in order, so the watermark knows when it closes some.
///
/// Only the times are kept, not which windows end then: at a close the shard scans its scopes,
/// a few times per day of event time, instead of holding a (scope, window) entry per open window.
struct CloseSchedule: Sendable {
    private var ends: [EpochMillis] = []

    mutating func schedule(_ end: EpochMillis) {
        let lo = ends.lowerBound { $0 < end }
        if lo == ends.count || ends[lo] != end { ends.insert(end, at: lo) }
    }

    /// The earliest end of any open window.
    var nextEnd: EpochMillis? { ends.first }

    /// Removes and returns the earliest end.
    mutating func popEarliest() -> EpochMillis? { ends.isEmpty ? nil : ends.removeFirst() }
}
