import SalesKPI

/// Events counted per type, by the type's raw value, until the next `publishStats`: counting
/// straight into `PipelineStats.eventsByType`, a dictionary, hashed the type for every event
/// (1.1 % of the pre-keyed aggregate stage's thread under `perf`; scripts/bench.sh, pre-keyed).
struct EventTypeCounts {
    private var counts = [Int](repeating: 0, count: EventType.allCases.count)

    mutating func add(_ type: EventType) { counts[Int(type.rawValue)] += 1 }

    /// Adds the counts to `byType` and starts again from zero.
    mutating func drain(into byType: inout [EventType: Int]) {
        for type in EventType.allCases where counts[Int(type.rawValue)] > 0 {
            byType[type, default: 0] += counts[Int(type.rawValue)]
            counts[Int(type.rawValue)] = 0
        }
    }
}
