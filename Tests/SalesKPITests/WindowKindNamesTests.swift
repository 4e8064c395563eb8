import TestSupport
import Testing

@testable import SalesKPI

/// State numbers window kinds by their index in `time.windows`; a changelog records the names,
/// so a restore under another list finds every kind by name (README, Operations).
@Suite("Window kinds recorded in the changelog")
struct WindowKindNamesTests {
    static let names = ["day", "week", "month", "7d/1d"]

    static func settings(_ names: [String]) -> KPISettings {
        var s = ChangelogRestoreTests.settings()
        s.windows = names.map { WindowSpec.parse($0)! }
        return s
    }

    /// `ChangelogRestoreTests`' events, split at `cut`: the shard's changelog after the first
    /// part (under `names`), and what a shard that never stopped publishes after it.
    static func split(at cut: Int) -> (log: [StateRecord], after: [ShardEffect]) {
        let events = ChangelogRestoreTests.events()
        var whole = ShardHarness(ChangelogRestoreTests.settings())
        for e in events { whole.apply(e) }
        whole.closeAll(through: "2026-06-01T00:00:00Z")
        var first = ShardHarness(ChangelogRestoreTests.settings())
        for e in events[..<cut] { first.apply(e) }
        let log = first.shard.takeChangelog()
        return (log, Array(whole.effects[first.effects.count...]))
    }

    /// Finals of the kinds in `kept`, each window's kind as its name: comparable across lists.
    static func finals(_ effects: [ShardEffect], of kept: [String]) -> [String] {
        effects.compactMap { effect in
            guard case .summary(var s) = effect, s.final, kept.contains(s.windowName) else { return nil }
            s.window.kind = 0
            return "\(s)"
        }
    }

    static func recorded(_ records: [StateRecord]) throws -> [String]? {
        guard let value = StateRecord.latestValues(records)[WindowKindNames.recordKey] ?? nil else { return nil }
        return try WindowKindNames(reading: value).names
    }

    @Test("each recorded kind is found by name; only a list that keeps every index needs no rewrite")
    func mapping() {
        let recorded = WindowKindNames(Self.names)
        let same = recorded.map(to: recorded)
        #expect(same.keepsIndices && (0...3).map { same.kind($0) } == [0, 1, 2, 3])
        let appended = recorded.map(to: WindowKindNames(Self.names + ["12h"]))
        #expect(appended.keepsIndices && appended.kind(3) == 3)
        let moved = recorded.map(to: WindowKindNames(["month", "day", "7d/1d", "week"]))
        #expect(!moved.keepsIndices && (0...3).map { moved.kind($0) } == [1, 3, 0, 2])
        let removed = recorded.map(to: WindowKindNames(["day", "month", "7d/1d"]))
        #expect(!removed.keepsIndices && (0...3).map { removed.kind($0) } == [0, nil, 1, 2])
        let removedLast = recorded.map(to: WindowKindNames(["day", "week", "month"]))
        #expect(!removedLast.keepsIndices && removedLast.kind(3) == nil)
        #expect(moved.kind(4) == nil, "an index the record does not list")
        #expect(WindowKindMap.byIndex.keepsIndices && WindowKindMap.byIndex.kind(7) == 7)
        #expect(!WindowKindNames(["day", "week", "day"]).isWellFormed)
    }

    @Test("a window is aligned only as its own kind makes windows: a week's bounds are no month's")
    func aligned() {
        let s = Self.settings(["day", "week", "month", "7d/1d", "12h"])
        var assigner = WindowAssigner(specs: s.windows, calendar: s.calendar)
        var real: [Window] = []
        assigner.windows(containing: EventBuilder.t("2026-03-18T15:30:00+08:00"), into: &real)
        #expect(real.count == 1 + 1 + 1 + 7 + 1)
        #expect(real.allSatisfy { s.isAligned($0) })
        for w in real {
            for kind in UInt8(0)..<5 where s.windows[Int(kind)] != s.windows[Int(w.kind)] {
                #expect(!s.isAligned(Window(kind: kind, start: w.start, end: w.end)), "\(w) as kind \(kind)")
            }
            #expect(!s.isAligned(Window(kind: w.kind, start: w.start + 1, end: w.end + 1)))
            #expect(!s.isAligned(Window(kind: w.kind, start: w.start, end: w.end - 1)))
            #expect(!s.isAligned(Window(kind: 5, start: w.start, end: w.end)), "no such kind")
        }
    }

    @Test("the first flush records the list, once")
    func writtenOnce() throws {
        var h = ShardHarness(ChangelogRestoreTests.settings())
        let events = ChangelogRestoreTests.events()
        for e in events[..<100] { h.apply(e) }
        #expect(try Self.recorded(h.shard.takeChangelog()) == Self.names)
        for e in events[100..<200] { h.apply(e) }
        #expect(try Self.recorded(h.shard.takeChangelog()) == nil, "written again without a change")
    }

    @Test(
        "a shard restored under a reordered list, and restored again from what it wrote, continues exactly",
        arguments: [["month", "day", "7d/1d", "week"], ["7d/1d", "week", "month", "day", "12h"]])
    func reordered(_ list: [String]) throws {
        let events = ChangelogRestoreTests.events()
        let (log, after) = Self.split(at: 1500)
        // The first life under the new list, flushing once: every record naming a window kind
        // is written again, and the old numbering's keys are deleted.
        var life = ShardHarness(Self.settings(list))
        life.shard = try ShardProcessor.restore(settings: Self.settings(list), records: log)
        for e in events[1500..<2500] { life.apply(e) }
        let more = life.shard.takeChangelog()
        #expect(try Self.recorded(more) == list)
        // A second restore reads only records numbered by the new list.
        var restored = ShardHarness(Self.settings(list))
        restored.shard = try ShardProcessor.restore(settings: Self.settings(list), records: log + more)
        for e in events[2500...] { restored.apply(e) }
        restored.closeAll(through: "2026-06-01T00:00:00Z")

        let expected = Self.finals(after, of: Self.names)
        #expect(expected.count > 1000)
        #expect(Self.finals(life.effects + restored.effects, of: Self.names) == expected)
        #expect(restored.finals.allSatisfy { list[Int($0.window.kind)] == $0.windowName })
    }

    @Test("a kind removed from the middle: the others continue exactly, the removed one's windows are dropped")
    func removed() throws {
        let events = ChangelogRestoreTests.events()
        let (log, after) = Self.split(at: 1500)
        let list = ["day", "month", "7d/1d"]
        var restored = ShardHarness(Self.settings(list))
        restored.shard = try ShardProcessor.restore(settings: Self.settings(list), records: log)
        for e in events[1500...] { restored.apply(e) }
        restored.closeAll(through: "2026-06-01T00:00:00Z")
        let expected = Self.finals(after, of: list)
        #expect(expected.count > 500)
        #expect(Self.finals(restored.effects, of: list) == expected)
        #expect(!restored.finals.contains { $0.windowName == "week" })
    }

    /// The added kind is no longer than the month: a longer one would lengthen the revision
    /// horizon (the longest window plus the lateness), and corrections would revise more finals.
    @Test("a kind added at the end: the other kinds' finals come out exactly as if nothing had stopped")
    func appended() throws {
        let events = ChangelogRestoreTests.events()
        let (log, after) = Self.split(at: 1500)
        let list = Self.names + ["12h"]
        var restored = ShardHarness(Self.settings(list))
        restored.shard = try ShardProcessor.restore(settings: Self.settings(list), records: log)
        for e in events[1500...] { restored.apply(e) }
        restored.closeAll(through: "2026-06-01T00:00:00Z")
        #expect(Self.finals(restored.effects, of: Self.names) == Self.finals(after, of: Self.names))
        #expect(restored.finals.contains { $0.windowName == "12h" }, "the added kind's windows close")
    }

    @Test("a changelog without the record (written before it existed) restores by index, and the next flush adds it")
    func olderChangelog() throws {
        let (log, _) = Self.split(at: 1500)
        let older = log.filter { $0.key != WindowKindNames.recordKey }
        #expect(older.count == log.count - 1)
        let same = try ShardProcessor.restore(settings: ChangelogRestoreTests.settings(), records: log)
        var restored = try ShardProcessor.restore(settings: ChangelogRestoreTests.settings(), records: older)
        #expect(restored.openWindowCount == same.openWindowCount)
        #expect(try Self.recorded(restored.takeChangelog()) == Self.names)
    }

    @Test("a cut, foreign or repeating kinds record is refused, not guessed at")
    func malformedRecord() throws {
        let (log, _) = Self.split(at: 1500)
        let value = try #require(StateRecord.latestValues(log)[WindowKindNames.recordKey] ?? nil)
        var twice = BinaryWriter()
        twice.byte(StateEncoding.version)
        twice.count(2)
        twice.string("day")
        twice.string("day")
        ChangelogRestoreTests.expectRefused(
            log, WindowKindNames.recordKey,
            [Array(value.dropLast()), value + [0], [0xB2] + value.dropFirst(), twice.bytes])
    }

    @Test("the rollup finds its kinds by name too, and rewrites its records under the new numbers")
    func rollup() throws {
        let settings = testSettings(["day", "month"])
        var make = EventBuilder()
        // The open month too: the rollup then holds a part as well as final days.
        let made = CompanyRollup.ofOneRegion(
            settings,
            [
                make.won("d1", 1000, at: "2026-03-02T10:00:00+08:00"),
                make.won("d2", 700, at: "2026-03-03T10:00:00+08:00"),
            ],
            through: "2026-03-03T12:00:00+08:00", provisional: true)
        var rollup = made.rollup
        let log = made.log
        #expect(log.filter { $0.key == WindowKindNames.recordKey }.count == 1)
        #expect(!rollup.takeChangelog().contains { $0.key == WindowKindNames.recordKey }, "written once")
        #expect(!rollup.finals.isEmpty && !rollup.parts.isEmpty)

        func swapped(_ w: Window) -> Window { Window(kind: 1 - w.kind, start: w.start, end: w.end) }
        let other = testSettings(["month", "day"])
        var restored = try CompanyRollup.restore(settings: other, shards: 1, records: log)
        #expect(Set(restored.parts.keys) == Set(rollup.parts.keys.map(swapped)))
        #expect(Set(restored.finals.keys) == Set(rollup.finals.keys.map(swapped)))
        #expect(Set(restored.revisions.keys) == Set(rollup.revisions.keys.map(swapped)))
        // Restored again from what it wrote: the same state, nothing left under the old numbers.
        let more = restored.takeChangelog()
        let again = try CompanyRollup.restore(settings: other, shards: 1, records: log + more)
        #expect(Set(again.parts.keys) == Set(restored.parts.keys))
        #expect(Set(again.finals.keys) == Set(restored.finals.keys))
        let live = StateRecord.latestValues(log + more).filter { $0.value != nil }.map(\.key)
        #expect(live.filter { $0.hasPrefix("p|") }.count == restored.parts.values.reduce(0) { $0 + $1.count })
        #expect(live.filter { $0.hasPrefix("f|") }.count == restored.finals.count)
    }
}
