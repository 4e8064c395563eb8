import Foundation

/// The shard's state as changelog records: only what changed since the last flush, keyed so a
/// compacted topic keeps exactly the latest value of each part.
///
/// Keys: `m` (watermarks and bookkeeping), `s|…` one per scope (its open windows and customer
/// ledger), `d|minute` the event ids of one minute of event time, `w|…`/`l|…` one per won/lost
/// deal outcome, `r` the rule trackers.
extension ShardProcessor {
    struct Meta: Codable {
        var watermark: EpochMillis
        var maxEventTime: EpochMillis
        var coverageStart: EpochMillis?
        var nextDayBoundary: EpochMillis?
        var nextPrune: EpochMillis
        var knownRegions: [String]
        var targetScopes: [ScopeKey]
    }

    struct ScopeRecord: Codable {
        var scope: ScopeKey
        var state: ScopeState
    }

    struct DealRecord: Codable {
        var key: DealBook.Key
        var outcome: DealBook.Outcome
    }

    struct RulesRecord: Codable {
        var trackers: [TrackerKey: TargetTracker]
        var cac: [ScopeKey: CACSpikeDetector]
    }

    static func scopeKey(_ s: ScopeKey) -> String { "s|\(s.kind.rawValue)\u{1}\(s.region)\u{1}\(s.rep)" }
    static func dealKey(_ won: Bool, _ k: DealBook.Key) -> String { "\(won ? "w" : "l")|\(k.region)\u{1}\(k.dealId)" }

    /// Everything that changed since the previous call, as changelog records.
    package mutating func takeChangelog() -> [StateRecord] {
        let encoder = JSONEncoder()
        func encode<T: Encodable>(_ value: T) -> [UInt8] { Array(try! encoder.encode(value)) }
        var out: [StateRecord] = []
        let meta = Meta(
            watermark: watermark, maxEventTime: maxEventTime, coverageStart: coverageStart,
            nextDayBoundary: nextDayBoundary, nextPrune: nextPrune, knownRegions: knownRegions.sorted(),
            targetScopes: targetScopes.sorted())
        out.append(StateRecord(key: "m", value: encode(meta)))
        for scope in dirtyScopes.sorted() {
            out.append(
                StateRecord(
                    key: Self.scopeKey(scope), value: scopes[scope].map { encode(ScopeRecord(scope: scope, state: $0)) }
                ))
        }
        dirtyScopes.removeAll()
        for (bucket, ids) in dedupe.takeChanges() {
            out.append(StateRecord(key: "d|\(bucket)", value: ids.map(encode)))
        }
        for (won, book) in [(true, \ShardProcessor.wonDeals), (false, \ShardProcessor.lostDeals)] {
            for (key, outcome) in self[keyPath: book].takeChanges() {
                out.append(
                    StateRecord(
                        key: Self.dealKey(won, key), value: outcome.map { encode(DealRecord(key: key, outcome: $0)) }))
            }
        }
        if rulesDirty {
            out.append(StateRecord(key: "r", value: encode(RulesRecord(trackers: trackers, cac: cacDetectors))))
            rulesDirty = false
        }
        return out
    }

    /// Rebuilds a shard from its changelog (records in log order; later ones win). Keys this
    /// version does not know are ignored, so the runtime can keep its own records alongside.
    package static func restore(settings: KPISettings, records: [StateRecord]) throws -> ShardProcessor {
        let latest = StateRecord.latestValues(records)
        let decoder = JSONDecoder()
        var shard = ShardProcessor(settings: settings)
        for (key, value) in latest.sorted(by: { $0.key < $1.key }) {
            guard let value else { continue }
            let data = Data(value)
            switch key.first {
            case "m":
                let m = try decoder.decode(Meta.self, from: data)
                shard.watermark = m.watermark
                shard.maxEventTime = m.maxEventTime
                shard.coverageStart = m.coverageStart
                shard.nextDayBoundary = m.nextDayBoundary
                shard.nextPrune = m.nextPrune
                shard.knownRegions = Set(m.knownRegions)
                shard.targetScopes = Set(m.targetScopes)
            case "s":
                let r = try decoder.decode(ScopeRecord.self, from: data)
                shard.scopes[r.scope] = r.state
                for window in r.state.windows.keys { shard.closing.schedule(r.scope, window) }
            case "d":
                guard let bucket = Int64(key.dropFirst(2)) else { continue }
                shard.dedupe.restore(bucket: bucket, ids: try decoder.decode([String].self, from: data))
            case "w", "l":
                let r = try decoder.decode(DealRecord.self, from: data)
                if key.first == "w" {
                    shard.wonDeals.restore(r.key, r.outcome)
                } else {
                    shard.lostDeals.restore(r.key, r.outcome)
                }
            case "r":
                let r = try decoder.decode(RulesRecord.self, from: data)
                shard.trackers = r.trackers
                shard.cacDetectors = r.cac
            default:
                continue
            }
        }
        return shard
    }
}
