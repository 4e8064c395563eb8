import TestSupport
import Testing

@testable import SalesKPI

@Suite("Changelog and restore")
struct ChangelogRestoreTests {
    /// A few thousand mixed events over two months in three regions, in time order with small
    /// disorder, including duplicates and re-sent wins.
    static func events() -> [SalesEvent] {
        var make = EventBuilder()
        var rng = SplitMix(seed: 5)
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

    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
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

    @Test("deleted parts become tombstones and restoring ignores unknown keys")
    func tombstones() throws {
        var make = EventBuilder()
        var h = ShardHarness(testSettings(["day"]))
        h.apply(make.spend(1, at: "2026-03-02T10:00:00Z"))
        let first = h.shard.takeChangelog()
        #expect(first.contains { $0.key.hasPrefix("s|region") && $0.value != nil })
        #expect(first.contains { $0.key.hasPrefix("d|") && $0.value != nil })
        h.closeAll()
        let second = h.shard.takeChangelog()
        #expect(second.contains { $0.key == "m" })
        let restored = try ShardProcessor.restore(
            settings: testSettings(["day"]), records: first + second + [StateRecord(key: "x", value: [1, 2, 3])])
        #expect(restored.watermark == h.shard.watermark)
        #expect(restored.openWindowCount == h.shard.openWindowCount)
    }
}
