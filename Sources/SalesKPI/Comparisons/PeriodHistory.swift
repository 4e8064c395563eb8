/// The final figures of one scope's past week, month and quarter windows, for comparing each
/// window with the one before and the same one a year earlier (docs/kpis.md, comparisons).
///
/// A window after the scope's first closed window of its kind that has no entry had no
/// activity: its figures are zero. One before it is unknown (the scope, or this worker's state
/// of it, did not exist yet).
package struct PeriodHistory: Sendable, Equatable, Codable {
    package struct Entry: Sendable, Equatable, Codable {
        package var kind: UInt8
        package var start: EpochMillis
        package var figures: PeriodFigures
    }

    /// Sorted by (kind, start).
    package private(set) var entries: [Entry] = []
    /// Per window kind, the start of the first window closed: the history is complete from there.
    package private(set) var firstStart: [UInt8: EpochMillis] = [:]

    package init() {}

    package init(entries: [Entry], firstStart: [UInt8: EpochMillis]) {
        self.entries = entries.sorted { ($0.kind, $0.start) < ($1.kind, $1.start) }
        self.firstStart = firstStart
    }

    /// A closed window's final figures.
    package mutating func record(kind: UInt8, start: EpochMillis, _ figures: PeriodFigures) {
        firstStart[kind] = min(firstStart[kind] ?? start, start)
        let entry = Entry(kind: kind, start: start, figures: figures)
        if let k = entries.firstIndex(where: { ($0.kind, $0.start) >= (kind, start) }) {
            if entries[k].kind == kind, entries[k].start == start {
                entries[k] = entry
            } else {
                entries.insert(entry, at: k)
            }
        } else {
            entries.append(entry)
        }
    }

    /// The figures of the closed window of `kind` starting at `start`; nil when unknown.
    package func figures(kind: UInt8, start: EpochMillis) -> PeriodFigures? {
        if let entry = entries.first(where: { $0.kind == kind && $0.start == start }) { return entry.figures }
        guard let first = firstStart[kind], start >= first else { return nil }
        return .zero
    }

    /// Drops the entries of `kind` that started at or before `start`: no window still to close
    /// compares with them.
    package mutating func forget(kind: UInt8, through start: EpochMillis) {
        entries.removeAll { $0.kind == kind && $0.start <= start }
    }

    /// The entries and first starts under the kinds `kind` gives, without those it gives none.
    private func mappingKinds(_ kind: (UInt8) -> UInt8?) -> PeriodHistory {
        var starts: [UInt8: EpochMillis] = [:]
        for (k, start) in firstStart { if let mapped = kind(k) { starts[mapped] = start } }
        return PeriodHistory(
            entries: entries.compactMap { e in kind(e.kind).map { Entry(kind: $0, start: e.start, figures: e.figures) }
            },
            firstStart: starts)
    }

    /// A history read from a changelog, under the configured kinds: renumbered by `kinds`, and
    /// without what no configured comparison of `scope` looks up (untrusted bytes, or written
    /// under other windows), as windows of no configured kind are dropped.
    package func restored(kinds: WindowKindMap, _ settings: KPISettings, scope: ScopeKey) -> PeriodHistory {
        mappingKinds { recorded in
            kinds.kind(recorded).flatMap { kind in
                Int(kind) < settings.windows.count
                    && Comparisons.unit(of: settings.windows[Int(kind)], scope: scope) != nil ? kind : nil
            }
        }
    }

    package var isEmpty: Bool { entries.isEmpty && firstStart.isEmpty }
}
