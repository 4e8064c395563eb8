import Foundation

/// The shard's state as changelog records: only what changed since the last flush, keyed so a
/// compacted topic keeps exactly the latest value of each part.
///
/// Keys: `m` (watermarks and bookkeeping), `s|…` one per scope (its open windows and customer
/// ledger), `D|n` the event ids first seen in flush interval n, `W|n`/`L|n` the won/lost deal
/// outcomes recorded in flush interval n, `h|…` one per region (its past figures for
/// comparisons), `c|…` one per final window still revisable (`ClosedWindow`), `r` the rule
/// trackers, `k` the window kinds it numbers windows by (`WindowKindNames`) and `u` the time zone
/// and currency its state is in (`StateUnits`), all binary (`StateEncoding`).
extension ShardProcessor {
    static func scopeKey(_ s: ScopeKey) -> String {
        var key = RecordKeyText("s|")
        key.first(s.kind.rawValue)
        key.part(s.region)
        key.part(s.rep)
        return key.text
    }

    static func historyKey(_ s: ScopeKey) -> String { "h|\(s.kind.rawValue)\u{1}\(s.region)" }

    static func closedKey(_ k: ClosedKey) -> String {
        var key = RecordKeyText("c|")
        key.first(Int64(k.window.kind))
        key.part(k.window.start)
        key.part(k.window.end)
        key.part(k.scope.kind.rawValue)
        key.part(k.scope.region)
        key.part(k.scope.rep)
        return key.text
    }

    static func dedupeKey(_ part: DedupeWindow.Part) -> String {
        switch part {
        case .chunk(let n): "D|\(n)"
        }
    }

    static func dealPartKey(_ won: Bool, _ part: DealBook.Part) -> String {
        switch part {
        case .chunk(let n): "\(won ? "W" : "L")|\(n)"
        }
    }

    /// Everything that changed since the previous call, as changelog records.
    package mutating func takeChangelog() -> [StateRecord] {
        var out: [StateRecord] = []
        out.append(StateRecord(key: "m", value: encodeMeta()))
        if layoutUnwritten {
            out.append(StateRecord(key: WindowKindNames.recordKey, value: kinds.encoded()))
            out.append(StateRecord(key: StateUnits.recordKey, value: units.encoded()))
            layoutUnwritten = false
        }
        for i in scopes.sorted(scopes.states.indices.filter { scopes.states[$0].dirty }) {
            let scope = scopes.keys[i]
            var w = Self.writer()
            scope.write(to: &w)
            scopes.states[i].write(to: &w)
            scopes.states[i].dirty = false
            out.append(StateRecord(key: Self.scopeKey(scope), value: w.bytes))
        }
        for scope in evictedScopes.sorted() where scopes.find(scope) == nil {
            out.append(StateRecord(key: Self.scopeKey(scope), value: nil))
        }
        evictedScopes.removeAll()
        for scope in historiesChanged.sorted() {
            guard let history = histories[scope] else { continue }
            var w = Self.writer()
            scope.write(to: &w)
            history.write(to: &w)
            out.append(StateRecord(key: Self.historyKey(scope), value: w.bytes))
        }
        historiesChanged.removeAll()
        for key in closedTombstones { out.append(StateRecord(key: Self.closedKey(key), value: nil)) }
        closedTombstones.removeAll()
        for i in scopes.sorted(scopes.states.indices.filter { !scopes.states[$0].closedChanged.isEmpty }) {
            let changed = scopes.states[i].closedChanged
            scopes.states[i].closedChanged.removeAll()
            // A window changed twice since the flush is listed twice and written once, at its
            // first mention. A scope lists a few, found by scanning those before: a set per scope,
            // hashing every window, was a tenth of the flush (scripts/bench.sh, shard). A set
            // still for long lists (many corrections of one scope), where the scan is quadratic.
            let long = changed.count > 16
            var seen = long ? Set<Window>(minimumCapacity: changed.count) : []
            for (n, window) in changed.enumerated()
            where long ? seen.insert(window).inserted : !changed[..<n].contains(window) {
                let key = ClosedKey(scope: scopes.keys[i], window: window)
                guard let k = closedIndex(i, of: window) else {
                    out.append(StateRecord(key: Self.closedKey(key), value: nil))
                    continue
                }
                let closed = scopes.states[i].closed[k]
                var w = Self.writer()
                key.scope.write(to: &w)
                window.write(to: &w)
                w.int(closed.revision)
                w.raw(closed.bytes)
                out.append(StateRecord(key: Self.closedKey(key), value: w.bytes))
            }
        }
        for change in dedupe.takeChanges() {
            switch change {
            case .removed(let part):
                out.append(StateRecord(key: Self.dedupeKey(part), value: nil))
            case .written(let part, let newest, let ids):
                var w = Self.writer()
                w.int(newest)
                w.count(ids.count)
                for id in ids { w.string(id) }
                out.append(StateRecord(key: Self.dedupeKey(part), value: w.bytes))
            }
        }
        for won in [true, false] {
            let (removed, written) = won ? wonDeals.takeChanges() : lostDeals.takeChanges()
            for part in removed { out.append(StateRecord(key: Self.dealPartKey(won, part), value: nil)) }
            for (part, outcomes) in written {
                var w = Self.writer()
                w.count(outcomes.count)
                for (key, outcome) in outcomes {
                    w.string(key.region)
                    w.string(key.dealId)
                    outcome.write(to: &w)
                }
                out.append(StateRecord(key: Self.dealPartKey(won, part), value: w.bytes))
            }
        }
        if rulesDirty {
            // Binary like the rest: as JSON this record was a twentieth of an aggregate stage's
            // work on a backlog, where every commit covers days of event time.
            out.append(StateRecord(key: "r", value: encodeRules()))
            rulesDirty = false
        }
        return out
    }

    private static func writer() -> BinaryWriter {
        var w = BinaryWriter()
        w.byte(StateEncoding.version)
        return w
    }

    private func encodeMeta() -> [UInt8] {
        var w = Self.writer()
        w.int(watermark)
        w.int(maxEventTime)
        w.int(coverageStart)
        w.int(nextDayBoundary)
        w.int(nextPrune)
        w.count(knownRegions.count)
        for region in knownRegions.sorted() { w.string(region) }
        w.count(targetScopes.count)
        for scope in targetScopes.sorted() { scope.write(to: &w) }
        return w.bytes
    }

    /// Every target tracker and CAC detector, in key order.
    private func encodeRules() -> [UInt8] {
        var w = Self.writer()
        w.count(trackers.count)
        let units = WindowSpec.CalendarUnit.allCases
        func ordinal(_ unit: WindowSpec.CalendarUnit) -> Int { units.firstIndex(of: unit) ?? 0 }
        let inOrder = trackers.sorted { a, b in
            (a.key.scope, ordinal(a.key.period), a.key.start) < (b.key.scope, ordinal(b.key.period), b.key.start)
        }
        for (key, tracker) in inOrder {
            key.scope.write(to: &w)
            w.byte(UInt8(ordinal(key.period)))
            w.int(key.start)
            tracker.write(to: &w)
        }
        w.count(cacDetectors.count)
        for (scope, detector) in cacDetectors.sorted(by: { $0.key < $1.key }) {
            scope.write(to: &w)
            detector.write(to: &w)
        }
        return w.bytes
    }

    private mutating func restoreRules(_ value: [UInt8]) throws {
        var r = try StateEncoding.reader(value)
        trackers = [:]
        for _ in 0..<(try r.count()) {
            let scope = try ScopeKey(reading: &r)
            let ordinal = Int(try r.byte())
            guard ordinal < WindowSpec.CalendarUnit.allCases.count else { throw BinaryReader.Malformed() }
            let period = WindowSpec.CalendarUnit.allCases[ordinal]
            let key = TrackerKey(scope: scope, period: period, start: try r.int())
            trackers[key] = try TargetTracker(reading: &r)
        }
        cacDetectors = [:]
        for _ in 0..<(try r.count()) {
            let scope = try ScopeKey(reading: &r)
            cacDetectors[scope] = try CACSpikeDetector(reading: &r)
        }
        guard r.isAtEnd else { throw BinaryReader.Malformed() }
    }

    private mutating func restoreMeta(_ value: [UInt8]) throws {
        var r = try StateEncoding.reader(value)
        watermark = try r.int()
        maxEventTime = try r.int()
        coverageStart = try r.optionalInt()
        nextDayBoundary = try r.optionalInt()
        nextPrune = try r.int()
        knownRegions = []
        for _ in 0..<(try r.count()) { knownRegions.insert(try r.string()) }
        targetScopes = []
        for _ in 0..<(try r.count()) { targetScopes.insert(try ScopeKey(reading: &r)) }
        try checkTimes()
    }

    /// Refuses meta times this shard could not have written: event times are years 1 to 2999
    /// (the decoder's widest limits), and the next business-day boundary and prune lie within
    /// two days after the watermark. Times far off would make the next advance walk every day
    /// in between (state fuzzer, scripts/fuzz.sh).
    private func checkTimes() throws(BinaryReader.Malformed) {
        func valid(_ t: EpochMillis?) -> Bool {
            t.map { $0 == .min || Timestamp.representableYears.contains($0) } ?? true
        }
        guard valid(watermark), valid(maxEventTime), valid(coverageStart), valid(nextPrune) else {
            throw BinaryReader.Malformed()
        }
        let soon = watermark == .min ? .min : watermark + 2 * Timestamp.millisPerDay
        if let nextDayBoundary, watermark == .min || nextDayBoundary <= watermark || nextDayBoundary > soon {
            throw BinaryReader.Malformed()
        }
        if nextPrune > soon { throw BinaryReader.Malformed() }
    }

    /// Rebuilds a shard from its changelog (records in log order; later ones win). Keys this
    /// version does not know are ignored, so the runtime can keep its own records alongside.
    package static func restore(settings: KPISettings, records: [StateRecord]) throws -> ShardProcessor {
        let latest = StateRecord.latestValues(records)
        var shard = ShardProcessor(settings: settings)
        try (latest[StateUnits.recordKey] ?? nil).map {
            try StateUnits(reading: $0).check(against: settings)
        }
        // Windows are numbered by the list they were written under: each kind is found by name.
        let kinds =
            try (latest[WindowKindNames.recordKey] ?? nil).map {
                try WindowKindNames(reading: $0).map(to: shard.kinds)
            } ?? .byIndex
        let rewrite = !kinds.keepsIndices
        // Kept finals join their scope once every scope record is in (`c` sorts before `s`).
        var restoredClosed: [(ScopeKey, ClosedWindow)] = []
        for (key, value) in latest.sorted(by: { $0.key < $1.key }) {
            guard let value else { continue }
            switch key.first {
            case "m":
                try shard.restoreMeta(value)
            case "s":
                var r = try StateEncoding.reader(value)
                let scope = try ScopeKey(reading: &r)
                var state = try ScopeState(reading: &r)
                if rewrite { state.windows.mapKinds(kinds.kind) }
                // Bytes from a topic are untrusted: a window of no configured kind, or empty,
                // cannot be closed or named, and is dropped rather than trapping later.
                state.windows.removeAll { !settings.isValid($0) }
                state.dirty = rewrite
                state.headroom = SumHeadroom(windows: state.windows)
                if state.lastActivity == .min { state.lastActivity = shard.maxEventTime }
                shard.scopes.states[shard.scopes.intern(scope).index] = state
                for window in state.windows.keys { shard.closing.schedule(window.end) }
            case "h":
                var r = try StateEncoding.reader(value)
                let scope = try ScopeKey(reading: &r)
                let history = try PeriodHistory(reading: &r)
                guard scope.kind == .region else { continue }
                shard.histories[scope] = history.restored(kinds: kinds, settings, scope: scope)
                if rewrite { shard.historiesChanged.insert(scope) }
            case "c":
                var r = try StateEncoding.reader(value)
                let scope = try ScopeKey(reading: &r)
                let window = try Window(reading: &r)
                let revision = try r.int32()
                let rest = Array(value[r.position...])
                var check = BinaryReader(rest)
                _ = try KPIAggregate(reading: &check)
                guard check.isAtEnd else { throw BinaryReader.Malformed() }
                // Its key names the kind by the old number: replaced by one under the new.
                if rewrite { shard.closedTombstones.append(ClosedKey(scope: scope, window: window)) }
                // Untrusted bytes: a window of no configured kind cannot be named (one the
                // horizon has passed goes at the next prune).
                guard let window = kinds.window(window), settings.isValid(window), scope.kind != .company else {
                    continue
                }
                restoredClosed.append((scope, ClosedWindow(window: window, revision: revision, bytes: rest)))
            case "D":
                guard let n = Int64(key.dropFirst(2)) else { continue }
                var r = try StateEncoding.reader(value)
                let newest = try r.int()
                var ids: [String] = []
                for _ in 0..<(try r.count()) { ids.append(try r.string()) }
                shard.dedupe.restore(.chunk(n), newest: newest, ids: ids)
            case "W", "L":
                guard let n = Int64(key.dropFirst(2)) else { continue }
                var r = try StateEncoding.reader(value)
                var outcomes: [(DealBook.Key, DealBook.Outcome)] = []
                for _ in 0..<(try r.count()) {
                    let dealKey = DealBook.Key(region: try r.string(), dealId: try r.string())
                    outcomes.append((dealKey, try DealBook.Outcome(reading: &r)))
                }
                if key.first == "W" {
                    shard.wonDeals.restore(.chunk(n), outcomes)
                } else {
                    shard.lostDeals.restore(.chunk(n), outcomes)
                }
            case "r":
                try shard.restoreRules(value)
            default:
                continue
            }
        }
        for (scope, closed) in restoredClosed {
            // A scope without its record (never, unless bytes were lost) starts with this window.
            let i = shard.scopes.find(scope) ?? shard.scopes.intern(scope).index
            shard.scopes.states[i].closed.append(closed)
            if rewrite { shard.scopes.states[i].closedChanged.append(closed.window) }
        }
        // In closing order, (end, start, kind), as they were kept: revisions come out in it.
        for i in shard.scopes.states.indices where shard.scopes.states[i].closed.count > 1 {
            shard.scopes.states[i].closed.sort { $0.window < $1.window }
        }
        return shard
    }
}
