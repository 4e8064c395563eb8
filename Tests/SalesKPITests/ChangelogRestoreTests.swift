import Foundation
import TestSupport
import Testing

@testable import SalesKPI

@Suite("Changelog and restore")
struct ChangelogRestoreTests {
    /// A few thousand mixed events over two months in three regions, in time order with small
    /// disorder, including duplicates and re-sent wins.
    static func events() -> [SalesEvent] {
        var make = EventBuilder()
        var rng = seededGenerator(5)
        var out: [SalesEvent] = []
        let start = EventBuilder.t("2026-01-01T00:10:00+08:00")
        for k in 0..<4000 {
            let t = start + EpochMillis(k) * 1_300_000 + EpochMillis(rng.next() % 600_000)
            let at = Timestamp.format(t)
            let region = ["east", "west", "north"][Int(rng.next() % 3)]
            let rep = "r\(rng.next() % 4)"
            switch rng.next() % 6 {
            case 0:
                out.append(
                    make.won(
                        "d\(k % 1500)", Int64(1000 + rng.next() % 9000), at: at,
                        created: Timestamp.format(t - 86_400_000 * EpochMillis(1 + rng.next() % 30)), region: region,
                        rep: rep))
            case 1: out.append(make.lost("d\(k)", at: at, region: region, rep: rep))
            case 2: out.append(make.acquired(at: at, region: region, rep: rep))
            case 3: out.append(make.churned(at: at, region: region, rep: rep))
            case 4:
                out.append(
                    make.spend(
                        Int64(100 + rng.next() % 900) * (region == "west" && k > 3000 ? 5 : 1), at: at, region: region,
                        rep: rng.next() % 2 == 0 ? rep : nil))
            default: out.append(make.created("d\(k)", at: at, region: region, rep: rep))
            }
            if k % 97 == 0, let last = out.last { out.append(last) }
        }
        return out
    }

    /// Expects a shard restored from `log` with each of `values` under `key` after it to be refused.
    static func expectRefused(
        _ log: [StateRecord], _ key: String, _ values: [[UInt8]], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for bad in values {
            #expect(throws: (any Error).self, "\(bad)", sourceLocation: sourceLocation) {
                try ShardProcessor.restore(settings: settings(), records: log + [StateRecord(key: key, value: bad)])
            }
        }
    }

    /// The changelog of a one-region rollup that took one won deal and closed its day.
    static func oneDealRollupLog(_ settings: KPISettings) -> [StateRecord] {
        var make = EventBuilder()
        return CompanyRollup.ofOneRegion(
            settings, [make.won("d1", 1000, at: "2026-03-02T10:00:00+08:00")], through: "2026-03-03T02:00:00+08:00"
        ).log
    }

    static func settings() -> KPISettings {
        var s = testSettings(["day", "week", "month", "7d/1d"])
        s.targets.set(Money(minorUnits: 30_000_000), for: .region("east"), period: .month)
        s.targets.set(Money(minorUnits: 9_000_000), for: .rep("r1", in: "north"), period: .month)
        return s
    }

    @Test("a shard restored from its changelog continues exactly like one that never stopped", arguments: [940, 2570])
    func restoreMatchesUninterrupted(crashAt: Int) throws {
        let events = Self.events()
        let settings = Self.settings()
        var whole = ShardHarness(settings)
        for e in events { whole.apply(e) }
        whole.closeAll(through: "2026-06-01T00:00:00Z")

        // Flush every 100 events; crash 40 events after the flush before `crashAt`.
        var first = ShardHarness(settings)
        var log: [StateRecord] = []
        var flushedAt = 0
        for (k, e) in events.enumerated() {
            if k == crashAt { break }
            first.apply(e)
            if (k + 1) % 100 == 0 {
                log += first.shard.takeChangelog()
                flushedAt = k + 1
            }
        }
        #expect(crashAt - flushedAt > 0)
        var restored = ShardHarness(settings)
        restored.shard = try ShardProcessor.restore(settings: settings, records: log)
        for e in events[flushedAt...] { restored.apply(e) }
        restored.closeAll(through: "2026-06-01T00:00:00Z")

        // What the uninterrupted shard emitted after the flush point, the restored one emits too.
        var reference = ShardHarness(settings)
        for e in events[..<flushedAt] { reference.apply(e) }
        let before = reference.effects.count
        #expect(Array(whole.effects[before...]) == restored.effects)
        #expect(whole.finals.count > 500)
        #expect(!whole.alerts.isEmpty)
    }

    @Test("a shard restored twice continues exactly like one that never stopped")
    func restoreTwice() throws {
        let events = Self.events()
        let settings = Self.settings()
        var whole = ShardHarness(settings)
        for e in events { whole.apply(e) }
        whole.closeAll(through: "2026-06-01T00:00:00Z")

        // One log across two lives: the second writes after the first's records, and the third
        // restores from both (its chunks must not collide with the first life's).
        var log: [StateRecord] = []
        var life = ShardHarness(settings)
        for e in events[..<1500] { life.apply(e) }
        log += life.shard.takeChangelog()
        life = ShardHarness(settings)
        life.shard = try ShardProcessor.restore(settings: settings, records: log)
        for (k, e) in events[1500..<3100].enumerated() {
            life.apply(e)
            if (k + 1) % 400 == 0 { log += life.shard.takeChangelog() }
        }
        var restored = ShardHarness(settings)
        restored.shard = try ShardProcessor.restore(settings: settings, records: log)
        for e in events[3100...] { restored.apply(e) }
        restored.closeAll(through: "2026-06-01T00:00:00Z")

        var reference = ShardHarness(settings)
        for e in events[..<3100] { reference.apply(e) }
        #expect(Array(whole.effects[reference.effects.count...]) == restored.effects)
        // Chunks are small in number and the ones nothing refers to any more were deleted.
        let latest = StateRecord.latestValues(log)
        let chunks = latest.filter { ["D", "W", "L"].contains($0.key.first) }
        #expect(chunks.contains { $0.value == nil })
        #expect(chunks.count < 40)
    }

    @Test("deleted parts become tombstones and restoring ignores unknown keys")
    func tombstones() throws {
        var make = EventBuilder()
        var h = ShardHarness(testSettings(["day"]))
        h.apply(make.spend(1, at: "2026-03-02T10:00:00Z"), make.won("d1", 5, at: "2026-03-02T10:05:00Z"))
        let first = h.shard.takeChangelog()
        #expect(first.contains { $0.key.hasPrefix("s|region") && $0.value != nil })
        #expect(first.contains { $0.key == "D|0" && $0.value != nil })
        #expect(first.contains { $0.key == "W|0" && $0.value != nil })
        h.closeAll()
        let second = h.shard.takeChangelog()
        #expect(second.contains { $0.key == "m" })
        // Past the dedupe horizon and every window: both chunks are deleted.
        #expect(second.contains { $0.key == "D|0" && $0.value == nil })
        #expect(second.contains { $0.key == "W|0" && $0.value == nil })
        let restored = try ShardProcessor.restore(
            settings: testSettings(["day"]), records: first + second + [StateRecord(key: "x", value: [1, 2, 3])])
        #expect(restored.watermark == h.shard.watermark)
        #expect(restored.openWindowCount == h.shard.openWindowCount)
    }

    /// A shard restored from one record: region east's scope with `windows` open, empty.
    static func restoreEast(with windows: [Window], _ settings: KPISettings) throws -> ShardProcessor {
        var scope = ScopeState()
        for window in windows { scope.windows[window] = ScopeState.WindowState() }
        var value = BinaryWriter()
        value.byte(StateEncoding.version)
        ScopeKey.region("east").write(to: &value)
        scope.write(to: &value)
        return try ShardProcessor.restore(
            settings: settings,
            records: [StateRecord(key: ShardProcessor.scopeKey(.region("east")), value: value.bytes)])
    }

    /// Found by the state fuzzer: a scope record whose window's span does not fit in an Int64
    /// (the reader adds the span to the start, wrapping) was kept, and writing the scope back
    /// trapped on the subtraction.
    @Test("a restored window whose span overflows is dropped; any window writes and reads back")
    func overflowingWindowSpan() throws {
        let settings = testSettings(["day"])
        let wide = Window(kind: 0, start: -9_000_000_000_000_000_000, end: 9_000_000_000_000_000_000)
        var w = BinaryWriter()
        wide.write(to: &w)
        var r = BinaryReader(w.bytes)
        #expect(try Window(reading: &r) == wide)
        #expect(!settings.isValid(wide))

        var shard = try Self.restoreEast(with: [wide, Window(kind: 0, start: 0, end: 86_400_000)], settings)
        #expect(shard.openWindowCount == 1)
        var effects: [ShardEffect] = []
        shard.advanceWatermark(to: 2 * 86_400_000, effects: &effects)
        _ = shard.takeChangelog()
        #expect(effects.count == 1)
    }

    /// Found by the state fuzzer: a region's week window far before year 1 (a start near
    /// Int64.min, a normal span) was kept, and closing it trapped on the subtraction that finds
    /// the week a year earlier for its comparison.
    @Test("a restored window outside the years events can have, or longer than its kind's, is dropped")
    func windowOutsideRepresentableYears() throws {
        let settings = testSettings(["week"])
        let week = 7 * Timestamp.millisPerDay
        let ancient = Window(kind: 0, start: .min + 1000, end: .min + 1000 + week)
        let farFuture = Window(kind: 0, start: Timestamp.representableYears.upperBound + 1, end: .max)
        let monday: EpochMillis = 1_767_542_400_000  // 2026-01-05T00:00+08:00
        let tooLong = Window(kind: 0, start: monday, end: monday + 9 * Timestamp.millisPerDay)
        let real = Window(kind: 0, start: monday, end: monday + week)
        for bad in [ancient, farFuture, tooLong] { #expect(!settings.isValid(bad)) }
        #expect(settings.isValid(real))

        var shard = try Self.restoreEast(with: [ancient, farFuture, tooLong, real], settings)
        #expect(shard.openWindowCount == 1)
        var effects: [ShardEffect] = []
        shard.advanceWatermark(to: real.end + 1, effects: &effects)
        _ = shard.takeChangelog()
        #expect(effects.count == 1)
    }

    @Test("the rule trackers' record reads back as written; another version or a cut one is refused")
    func rulesRecord() throws {
        let settings = Self.settings()
        var h = ShardHarness(settings)
        for e in Self.events()[..<2000] { h.apply(e) }
        let log = h.shard.takeChangelog()
        let rules = try #require(log.last { $0.key == "r" }?.value)
        #expect(!h.shard.trackers.isEmpty && !h.shard.cacDetectors.isEmpty)
        let restored = try ShardProcessor.restore(settings: settings, records: log)
        #expect(restored.trackers == h.shard.trackers)
        #expect(restored.cacDetectors == h.shard.cacDetectors)
        var json = rules
        json[0] = 0xC2  // the JSON form of an earlier build, never released
        #expect(throws: StateEncoding.UnknownVersion.self) {
            try ShardProcessor.restore(settings: settings, records: [StateRecord(key: "r", value: json)])
        }
        #expect(throws: BinaryReader.Malformed.self) {
            try ShardProcessor.restore(
                settings: settings, records: [StateRecord(key: "r", value: Array(rules.dropLast()))])
        }
    }

    @Test("a record of another format version is refused with an error naming it, not guessed at")
    func unknownVersionRefused() throws {
        let settings = testSettings(["day"])
        var h = ShardHarness(settings)
        var make = EventBuilder()
        h.apply(make.won("d1", 100, at: "2026-03-02T10:05:00Z"))
        for record in h.shard.takeChangelog() where record.value != nil {
            var value = record.value!
            value[0] = 0xB2
            #expect(throws: StateEncoding.UnknownVersion.self, "\(record.key)") {
                try ShardProcessor.restore(settings: settings, records: [StateRecord(key: record.key, value: value)])
            }
        }
        // The JSON form never shipped: refused too.
        let json = Array(#"{"watermark":0}"#.utf8)
        let error = #expect(throws: StateEncoding.UnknownVersion.self) {
            try ShardProcessor.restore(settings: settings, records: [StateRecord(key: "m", value: json)])
        }
        #expect(error?.description.contains("0x7B") == true && error?.description.contains("0xB1") == true)
    }

    @Test("a rollup record of another format version, or the JSON form without one, is refused, not guessed at")
    func rollupUnknownVersionRefused() throws {
        let settings = testSettings(["day", "month"])
        let records = Self.oneDealRollupLog(settings)
        let kinds = Set(records.filter { $0.value != nil }.compactMap(\.key.first))
        #expect(kinds == ["m", "k", "u", "p", "f"])
        // The records as written restore.
        _ = try CompanyRollup.restore(settings: settings, shards: 1, records: records)
        for record in records where record.value != nil {
            var value = record.value!
            // A part is binary, in the shard's format version; the rest is JSON.
            let written: UInt8 = record.key.first == "p" ? 0xB1 : 0xC3
            let reads = record.key.first == "p" ? "reads versions 0xB1 and 0xC3" : "reads version 0xC3 only"
            #expect(value[0] == written)
            value[0] = 0xC4
            #expect(throws: StateEncoding.UnknownVersion.self, "\(record.key)") {
                try CompanyRollup.restore(
                    settings: settings, shards: 1, records: [StateRecord(key: record.key, value: value)])
            }
            let bare = Array(record.value!.dropFirst())
            let error = #expect(throws: StateEncoding.UnknownVersion.self, "\(record.key)") {
                try CompanyRollup.restore(
                    settings: settings, shards: 1, records: [StateRecord(key: record.key, value: bare)])
            }
            let first = "0x" + String(bare[0], radix: 16, uppercase: true)
            #expect(error?.description.contains(first) == true, "\(record.key): \(error.map { "\($0)" } ?? "")")
            #expect(error?.description.contains(reads) == true, "\(record.key): \(error.map { "\($0)" } ?? "")")
        }
    }

    @Test("a rollup part in the JSON form earlier releases wrote restores to the same rollup")
    func rollupJSONPartRestores() throws {
        let settings = testSettings(["day", "month"])
        var make = EventBuilder()
        let events = [
            make.won("d1", 1000, at: "2026-03-02T10:00:00+08:00"),
            make.won("d2", 250, at: "2026-03-02T11:00:00+08:00", created: "2026-02-20T09:00:00+08:00"),
            make.lost("d3", at: "2026-03-02T12:00:00+08:00"),
        ]
        let records = CompanyRollup.ofOneRegion(
            settings, events, through: "2026-03-03T02:00:00+08:00", provisional: true
        ).log
        let binary = try CompanyRollup.restore(settings: settings, shards: 1, records: records)
        #expect(!binary.parts.isEmpty)
        // As a release before binary parts wrote them: the version byte 0xC3 and the JSON.
        let shipped = records.map { record -> StateRecord in
            guard record.key.first == "p", let value = record.value else { return record }
            #expect(value[0] == 0xB1)
            var r = BinaryReader(value)
            _ = try? r.byte()
            guard let aggregate = try? KPIAggregate(reading: &r) else {
                Issue.record("unreadable part \(record.key)")
                return record
            }
            let json = [0xC3] + Array(try! JSONEncoder().encode(aggregate))
            #expect(json[1] == UInt8(ascii: "["))
            return StateRecord(key: record.key, value: json)
        }
        #expect(shipped.map(\.value) != records.map(\.value))
        let restored = try CompanyRollup.restore(settings: settings, shards: 1, records: shipped)
        #expect(restored.parts == binary.parts)
        // Written again, it is binary.
        var again = restored
        again.changedParts = Set(
            restored.parts.flatMap { w, regions in regions.keys.map { .init(window: w, region: $0) } })
        #expect(again.takeChangelog().filter { $0.key.first == "p" }.allSatisfy { $0.value?.first == 0xB1 })
    }
}
