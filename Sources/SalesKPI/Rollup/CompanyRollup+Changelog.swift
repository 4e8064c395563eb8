import Foundation

/// The rollup's state as changelog records: `p|…` one per (window, region) part, `f|…` one per
/// final window still revisable, `k` the window kinds it numbers windows by (`WindowKindNames`),
/// `u` the time zone and currency its state is in (`StateUnits`), `m` the rest. A part's value is
/// `StateEncoding.version` followed by its aggregate in binary (`partValue`); every other value
/// is `StateEncoding.rollupVersion` followed by the record's JSON. A value of any other version
/// is refused, never guessed at.
extension CompanyRollup {
    struct PartKey: Hashable, Sendable {
        var window: Window
        var region: String
    }

    /// A company target tracker for the period that started at `start`.
    struct PeriodTracker: Codable, Sendable {
        var start: EpochMillis
        var tracker: TargetTracker
    }

    struct Meta: Codable {
        var revisions: [Window: Int]
        var finalized: EpochMillis
        var shardWatermarks: [Int: EpochMillis]
        var shardCoverage: [Int: EpochMillis]
        var trackers: [WindowSpec.CalendarUnit: PeriodTracker]
        var cac: CACSpikeDetector
        var nextDayBoundary: EpochMillis?
        var coverageStart: EpochMillis?
        var emptyShards: [Int]
        var customers: CustomerLedger
        var history: PeriodHistory
    }

    static func partKey(_ k: PartKey) -> String { "p|\(k.window.kind)|\(k.window.start)|\(k.window.end)|\(k.region)" }

    static func finalKey(_ w: Window) -> String { "f|\(w.kind)|\(w.start)|\(w.end)" }

    /// A part's value: the aggregate in binary. Parts are most of the rollup's records, and
    /// encoding each as JSON was 2 % of the CPU of a pre-keyed run (scripts/bench.sh, profiled
    /// end to end).
    static func partValue(_ aggregate: KPIAggregate) -> [UInt8] {
        var w = BinaryWriter(capacity: 48)
        w.byte(StateEncoding.version)
        aggregate.write(to: &w)
        return w.bytes
    }

    /// A part's aggregate, from `partValue` or from the JSON form that releases before it wrote
    /// (`StateEncoding.rollupVersion`): that one is still read, so a worker upgraded in place
    /// restores its rollup.
    static func part(_ value: [UInt8]) throws -> KPIAggregate {
        switch value.first {
        case StateEncoding.version:
            var r = try StateEncoding.reader(value)
            let aggregate = try KPIAggregate(reading: &r)
            guard r.isAtEnd else { throw BinaryReader.Malformed() }
            return aggregate
        case StateEncoding.rollupVersion:
            return try StateEncoding.decode(KPIAggregate.self, value, version: StateEncoding.rollupVersion)
        default:
            throw StateEncoding.UnknownVersion(
                found: value.first, reads: [StateEncoding.version, StateEncoding.rollupVersion])
        }
    }

    package mutating func takeChangelog() -> [StateRecord] {
        var out: [StateRecord] = []
        let meta = Meta(
            revisions: revisions, finalized: finalized, shardWatermarks: shardWatermarks, shardCoverage: shardCoverage,
            trackers: trackers, cac: cac,
            nextDayBoundary: nextDayBoundary, coverageStart: coverageStart, emptyShards: emptyShards.sorted(),
            customers: customers, history: history)
        out.append(StateRecord(key: "m", value: StateEncoding.json(meta, version: StateEncoding.rollupVersion)))
        if layoutUnwritten {
            out.append(
                StateRecord(
                    key: WindowKindNames.recordKey,
                    value: StateEncoding.json(kinds, version: StateEncoding.rollupVersion)))
            out.append(
                StateRecord(
                    key: StateUnits.recordKey,
                    value: StateEncoding.json(units, version: StateEncoding.rollupVersion)))
            layoutUnwritten = false
        }
        for k in changedParts.sorted(by: { ($0.window, $0.region) < ($1.window, $1.region) }) {
            let value = parts[k.window]?[k.region].map(Self.partValue)
            out.append(StateRecord(key: Self.partKey(k), value: value))
        }
        changedParts.removeAll()
        for window in finalsChanged.sorted() {
            out.append(
                StateRecord(
                    key: Self.finalKey(window),
                    value: finals[window].map { StateEncoding.json($0, version: StateEncoding.rollupVersion) }))
        }
        finalsChanged.removeAll()
        return out
    }

    package static func restore(settings: KPISettings, shards: Int, records: [StateRecord]) throws -> CompanyRollup {
        let latest = StateRecord.latestValues(records)
        var rollup = CompanyRollup(settings: settings, shards: shards)
        if let value = latest[StateUnits.recordKey] ?? nil {
            try StateEncoding.decode(StateUnits.self, value, version: StateEncoding.rollupVersion)
                .check(against: settings)
        }
        // Windows are numbered by the list they were written under: each kind is found by name,
        // and when one moved, every record naming a window is written again at the next flush.
        var kinds = WindowKindMap.byIndex
        if let value = latest[WindowKindNames.recordKey] ?? nil {
            let names = try StateEncoding.decode(WindowKindNames.self, value, version: StateEncoding.rollupVersion)
            guard names.isWellFormed else { throw BinaryReader.Malformed() }
            kinds = names.map(to: rollup.kinds)
        }
        let rewrite = !kinds.keepsIndices
        for (key, value) in latest {
            guard let value else { continue }
            switch key.first {
            case "m":
                let m = try StateEncoding.decode(Meta.self, value, version: StateEncoding.rollupVersion)
                // Only times the rollup could have written: the next business-day boundary lies
                // within two days after the company watermark it had finalized up to (an
                // older one would make the next close walk every day in between).
                if m.finalized != .min, !Timestamp.representableYears.contains(m.finalized) {
                    throw BinaryReader.Malformed()
                }
                if let next = m.nextDayBoundary,
                    m.finalized == .min || next <= m.finalized || next > m.finalized + 2 * Timestamp.millisPerDay
                {
                    throw BinaryReader.Malformed()
                }
                rollup.revisions = [:]
                for (window, revision) in m.revisions {
                    if let window = kinds.window(window) { rollup.revisions[window] = revision }
                }
                rollup.finalized = m.finalized
                rollup.shardWatermarks = m.shardWatermarks
                rollup.shardCoverage = m.shardCoverage
                rollup.trackers = m.trackers
                rollup.cac = m.cac
                rollup.nextDayBoundary = m.nextDayBoundary
                rollup.coverageStart = m.coverageStart
                rollup.emptyShards = Set(m.emptyShards)
                rollup.customers = m.customers
                rollup.history = m.history.restored(kinds: kinds, settings, scope: .company)
            case "p":
                // p|kind|start|end|region — the region may itself contain '|'.
                let fields = key.split(separator: "|", maxSplits: 4, omittingEmptySubsequences: false)
                guard fields.count == 5, let kind = UInt8(fields[1]), let start = EpochMillis(fields[2]),
                    let end = EpochMillis(fields[3])
                else { continue }
                let recorded = Window(kind: kind, start: start, end: end)
                let region = String(fields[4])
                // The old key goes (or takes the value now filed under it) at the next flush.
                if rewrite { rollup.changedParts.insert(PartKey(window: recorded, region: region)) }
                guard let window = kinds.window(recorded), settings.isValid(window) else { continue }
                rollup.parts[window, default: [:]][region] = try Self.part(value)
                if rewrite { rollup.changedParts.insert(PartKey(window: window, region: region)) }
            case "f":
                let fields = key.split(separator: "|", omittingEmptySubsequences: false)
                guard fields.count == 4, let kind = UInt8(fields[1]), let start = EpochMillis(fields[2]),
                    let end = EpochMillis(fields[3])
                else { continue }
                let recorded = Window(kind: kind, start: start, end: end)
                if rewrite { rollup.finalsChanged.insert(recorded) }
                guard let window = kinds.window(recorded), settings.isValid(window) else { continue }
                rollup.finals[window] =
                    try StateEncoding.decode(FinalWindow.self, value, version: StateEncoding.rollupVersion)
                if rewrite { rollup.finalsChanged.insert(window) }
            default:
                continue
            }
        }
        // Every shard had ended: so had the company.
        if rollup.watermark == .max { rollup.endedAt = rollup.finalized }
        return rollup
    }
}
