/// The `time.windows` names a changelog's windows are numbered by (README, Operations).
///
/// State keeps a window's kind as its index into `time.windows`. Restored by index under a list
/// that numbers kinds otherwise (`[day, week, month]` reordered to `[day, month, week]`), a
/// week's open windows would come back as months, named `month` in their summaries, and a kind
/// removed from the middle would shift the rest. So every changelog records the names in its own
/// `k` record, and a restore finds each recorded kind by name (`WindowKindMap`).
package struct WindowKindNames: Sendable, Equatable, Codable {
    package var names: [String]

    /// The changelog key, in the shard's changelog and the rollup's.
    package static let recordKey = "k"

    package init(_ names: [String]) { self.names = names }

    package init(_ settings: KPISettings) { names = settings.windows.map(\.name) }

    /// What a worker could have written: at most 255 kinds (`Window.kind` is a byte), each once.
    /// Two recorded kinds of one name would both be renumbered to it.
    package var isWellFormed: Bool { names.count <= 255 && Set(names).count == names.count }

    /// Where each kind recorded here is under `configured`.
    package func map(to configured: WindowKindNames) -> WindowKindMap {
        WindowKindMap(
            targets: names.map { name in configured.names.firstIndex(of: name).map { UInt8($0) } })
    }
}

/// A recorded window kind's index under the configured `time.windows`: the kind of that name,
/// or none when that kind is no longer configured (its windows are dropped, without finals).
package struct WindowKindMap: Sendable {
    /// By recorded index; nil for a changelog without the record (written before it existed,
    /// read by index as it always was).
    private let targets: [UInt8?]?

    /// For a changelog without a `k` record.
    package static let byIndex = WindowKindMap(targets: nil)

    fileprivate init(targets: [UInt8?]?) { self.targets = targets }

    /// Whether every recorded kind keeps its index: then the records can stay as they are.
    /// Otherwise the restore rewrites every record holding a window kind at its first flush,
    /// with the new `k` record, so no record is left numbered by the old list.
    package var keepsIndices: Bool {
        targets?.enumerated().allSatisfy { $0.element.map(Int.init) == $0.offset } ?? true
    }

    package func kind(_ recorded: UInt8) -> UInt8? {
        guard let targets else { return recorded }
        return Int(recorded) < targets.count ? targets[Int(recorded)] : nil
    }

    package func window(_ w: Window) -> Window? { kind(w.kind).map { Window(kind: $0, start: w.start, end: w.end) } }
}
