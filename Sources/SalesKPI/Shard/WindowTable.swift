/// One scope's open windows, as a small array sorted by window.
///
/// A scope has a handful of open windows (one or two per configured kind), so a linear scan
/// beats hashing, and an array costs one allocation instead of a hash table's sparse buckets:
/// this is most of the memory per (scope, window) aggregate.
struct WindowTable: Sendable, Sequence {
    private var entries: [(window: Window, state: ScopeState.WindowState)] = []

    init() {}

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    /// The windows in order (end, start, kind).
    var keys: [Window] { entries.map(\.window) }

    private func index(of window: Window) -> Int? { entries.firstIndex { $0.window == window } }

    subscript(window: Window) -> ScopeState.WindowState? {
        get { index(of: window).map { entries[$0].state } }
        set {
            if let k = index(of: window) {
                if let newValue { entries[k].state = newValue } else { entries.remove(at: k) }
            } else if let newValue {
                let at = entries.firstIndex { window < $0.window } ?? entries.count
                entries.insert((window, newValue), at: at)
            }
        }
    }

    @discardableResult
    mutating func removeValue(forKey window: Window) -> ScopeState.WindowState? {
        guard let k = index(of: window) else { return nil }
        return entries.remove(at: k).state
    }

    /// Changes every window matching `predicate`, in place.
    mutating func update(
        where predicate: (Window) -> Bool, _ change: (Window, inout ScopeState.WindowState) -> Void
    ) {
        for k in entries.indices where predicate(entries[k].window) { change(entries[k].window, &entries[k].state) }
    }

    func makeIterator() -> some IteratorProtocol<(window: Window, state: ScopeState.WindowState)> {
        entries.makeIterator()
    }
}

extension WindowTable: Codable {
    /// Encoded as the dictionary it replaced, so older JSON changelog values still restore.
    init(from decoder: any Decoder) throws {
        let dictionary = try [Window: ScopeState.WindowState](from: decoder)
        entries = dictionary.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    func encode(to encoder: any Encoder) throws {
        try Dictionary(uniqueKeysWithValues: entries.map { ($0.window, $0.state) }).encode(to: encoder)
    }
}
