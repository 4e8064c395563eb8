/// A final window kept for `KPISettings.revisionHorizonMillis` after its end, so a corrected
/// deal can still be retracted from it and a revised final published (docs/guarantees.md,
/// revised finals).
///
/// Only windows that counted a deal outcome are kept: nothing else can be retracted. The
/// aggregate is held in its changelog form: a closed window is read again only when a
/// correction reaches it (about 1 % of wins), and its bytes take a fraction of the memory of a
/// live aggregate with its sketch.
struct ClosedWindow: Sendable {
    var window: Window
    var revision: Int32
    var bytes: [UInt8]

    init(window: Window, revision: Int32, aggregate: KPIAggregate) {
        self.window = window
        self.revision = revision
        var w = BinaryWriter(capacity: 48)
        aggregate.write(to: &w)
        bytes = w.bytes
    }

    init(window: Window, revision: Int32, bytes: [UInt8]) {
        self.window = window
        self.revision = revision
        self.bytes = bytes
    }

    /// The aggregate back; the bytes are this process's own (or a checked restore's).
    var aggregate: KPIAggregate {
        var r = BinaryReader(bytes)
        return (try? KPIAggregate(reading: &r)) ?? KPIAggregate()
    }

    /// Applies `change` and counts a revision.
    mutating func revise(_ change: (inout KPIAggregate) -> Void) -> (before: KPIAggregate, after: KPIAggregate) {
        let before = aggregate
        var after = before
        change(&after)
        self = ClosedWindow(window: window, revision: revision + 1, aggregate: after)
        return (before, after)
    }
}

/// Identifies a closed window across scope-table changes: the key of its changelog record.
struct ClosedKey: Hashable, Sendable {
    var scope: ScopeKey
    var window: Window
}
