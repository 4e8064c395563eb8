/// One scope's open windows, as a small array sorted by window.
///
/// A scope has a handful of open windows (one or two per configured kind), so a linear scan
/// beats hashing, and an array costs one allocation instead of a hash table's sparse buckets:
/// this is most of the memory per (scope, window) aggregate.
struct WindowTable: Sendable {
    /// A window and its state, the window's kind last: it then sits in the state's tail
    /// padding, 88 bytes an entry where a (Window, WindowState) pair takes 96 (scripts/bench.sh,
    /// state).
    private struct Entry: Sendable {
        var start: EpochMillis
        var end: EpochMillis
        var state: ScopeState.WindowState
        var kind: UInt8

        init(_ window: Window, _ state: ScopeState.WindowState) {
            (start, end, kind) = (window.start, window.end, window.kind)
            self.state = state
        }

        var window: Window { Window(kind: kind, start: start, end: end) }

        func holds(_ w: Window) -> Bool { start == w.start && end == w.end && kind == w.kind }
    }

    private var entries: [Entry] = []

    init() {}

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    /// The windows in order (end, start, kind).
    var keys: [Window] { entries.map(\.window) }

    /// Where `window` sits, for `modify(at:)`; nil when it is not open.
    func position(of window: Window) -> Int? { entries.firstIndex { $0.holds(window) } }

    /// Room for `n` windows: a scope usually has one open per configured kind, and an array
    /// grown one by one to three windows would hold four, a tenth more memory per aggregate
    /// (scripts/bench.sh, state).
    mutating func reserve(_ n: Int) { entries.reserveCapacity(n) }

    /// Opens `window` with `state`, returning its position. The window must not be open yet.
    mutating func insert(_ window: Window, _ state: ScopeState.WindowState) -> Int {
        let at = entries.firstIndex { window < $0.window } ?? entries.count
        entries.insert(Entry(window, state), at: at)
        return at
    }

    /// Changes the state at `position` in place: copying a state out and back would retain and
    /// release its sketch's bins for every window an event reaches.
    mutating func modify(at position: Int, _ change: (inout ScopeState.WindowState) -> Void) {
        change(&entries[position].state)
    }

    subscript(window: Window) -> ScopeState.WindowState? {
        get { position(of: window).map { entries[$0].state } }
        set {
            if let k = position(of: window) {
                if let newValue { entries[k].state = newValue } else { entries.remove(at: k) }
            } else if let newValue {
                _ = insert(window, newValue)
            }
        }
    }

    @discardableResult
    mutating func removeValue(forKey window: Window) -> ScopeState.WindowState? {
        guard let k = position(of: window) else { return nil }
        return entries.remove(at: k).state
    }

    mutating func removeAll(where predicate: (Window) -> Bool) { entries.removeAll { predicate($0.window) } }

    /// Renumbers every window's kind (`WindowKindMap`), dropping those `kind` gives none.
    mutating func mapKinds(_ kind: (UInt8) -> UInt8?) {
        entries = entries.compactMap { e in
            guard let mapped = kind(e.kind) else { return nil }
            var e = e
            e.kind = mapped
            return e
        }
    }

    /// Changes every window matching `predicate`, in place.
    mutating func update(
        where predicate: (Window) -> Bool, _ change: (Window, inout ScopeState.WindowState) -> Void
    ) {
        for k in entries.indices where predicate(entries[k].window) { change(entries[k].window, &entries[k].state) }
    }

    // The readers below go by position and hand each state on in place. The table was a
    // `Sequence` of (window, state) pairs, and iterating it copied every state, retaining and
    // releasing its sketch's bins: asked of every scope at every window end by `closeWindows`,
    // that was 2 % of the shard bench's samples (scripts/bench.sh, shard).

    /// Calls `body` with each open window, in order, and its state.
    func forEach(_ body: (Window, ScopeState.WindowState) -> Void) {
        for k in entries.indices { body(entries[k].window, entries[k].state) }
    }

    /// Whether some open window and its state satisfy `predicate`.
    func contains(where predicate: (Window, ScopeState.WindowState) -> Bool) -> Bool {
        for k in entries.indices where predicate(entries[k].window, entries[k].state) { return true }
        return false
    }

    /// The state of the first open window satisfying `predicate`.
    func first(where predicate: (Window) -> Bool) -> ScopeState.WindowState? {
        for k in entries.indices where predicate(entries[k].window) { return entries[k].state }
        return nil
    }
}
