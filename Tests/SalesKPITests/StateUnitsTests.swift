import TestSupport
import Testing

@testable import SalesKPI

/// Calendar windows are cut in `time.time_zone` and sums kept in `money.reporting_currency`; a
/// changelog records both, and a restore under a zone whose days begin elsewhere, or under
/// another currency, is refused (README, Operations).
@Suite("Time zone and currency recorded in the changelog")
struct StateUnitsTests {
    static func settings(zone: String = "Asia/Shanghai", currency: String = "CNY") -> KPISettings {
        var s = ChangelogRestoreTests.settings()
        s.calendar = calendar(zone)
        s.reportingCurrency = currency
        return s
    }

    static func calendar(_ zone: String) -> BusinessCalendar { BusinessCalendar(timeZoneIdentifier: zone)! }

    /// A one-region rollup's changelog, written in Asia/Shanghai and yuan.
    static func rollupLog() -> [StateRecord] { ChangelogRestoreTests.oneDealRollupLog(Self.settings()) }

    @Test("zones cut the same days only when named alike, or both kept one offset since 2000, the same")
    func sameDays() {
        let shanghai = Self.calendar("Asia/Shanghai")
        #expect(shanghai.cutsSameDays(as: Self.calendar("Asia/Shanghai")))
        #expect(shanghai.cutsSameDays(as: Self.calendar("Asia/Singapore")), "+08:00 since 1982")
        #expect(!shanghai.cutsSameDays(as: Self.calendar("Asia/Tokyo")))
        #expect(!shanghai.cutsSameDays(as: Self.calendar("UTC")))
        #expect(Self.calendar("UTC").cutsSameDays(as: Self.calendar("GMT")))
        #expect(Self.calendar("Europe/Berlin").cutsSameDays(as: Self.calendar("Europe/Berlin")))
        // Alike since 1980, but zones with daylight saving are compared by name only.
        #expect(!Self.calendar("Europe/Berlin").cutsSameDays(as: Self.calendar("Europe/Paris")))
    }

    @Test("a shard's first flush records its units, once, and a restore under another zone is refused")
    func shard() throws {
        let events = ChangelogRestoreTests.events()
        var h = ShardHarness(Self.settings())
        for e in events[..<1500] { h.apply(e) }
        let log = h.shard.takeChangelog()
        let value = try #require(StateRecord.latestValues(log)[StateUnits.recordKey] ?? nil)
        #expect(try StateUnits(reading: value) == StateUnits(timeZone: "Asia/Shanghai", currency: "CNY"))
        for e in events[1500..<1600] { h.apply(e) }
        #expect(!h.shard.takeChangelog().contains { $0.key == StateUnits.recordKey }, "written once")

        let refused = #expect(throws: StateUnitsChanged.self) {
            try ShardProcessor.restore(settings: Self.settings(zone: "UTC"), records: log)
        }
        #expect(refused?.setting == "time.time_zone" && refused?.recorded == "Asia/Shanghai")
        let text = refused?.description ?? ""
        #expect(text.hasPrefix("the state was written with time.time_zone Asia/Shanghai, and this worker has UTC: "))
        #expect(text.contains("Set time.time_zone back to Asia/Shanghai") && text.contains("new kafka.group_id"))
        // Restored, the units are written again at the first flush (the log may be compacted).
        var restored = try ShardProcessor.restore(settings: Self.settings(), records: log)
        #expect(restored.takeChangelog().contains { $0.key == StateUnits.recordKey })
    }

    @Test("a restore under another reporting currency is refused: yuan sums would go on in dollars")
    func currency() throws {
        let (log, _) = WindowKindNamesTests.split(at: 1500)
        let refused = #expect(throws: StateUnitsChanged.self) {
            try ShardProcessor.restore(settings: Self.settings(currency: "USD"), records: log)
        }
        #expect(
            refused?.description.hasPrefix(
                "the state was written with money.reporting_currency CNY, and this worker has USD: restored sums in CNY would go on in USD. Set money.reporting_currency back to CNY"
            ) == true, "\(refused.map { "\($0)" } ?? "")")
        let rollupLog = Self.rollupLog()
        #expect(throws: StateUnitsChanged.self) {
            try CompanyRollup.restore(settings: Self.settings(currency: "USD"), shards: 1, records: rollupLog)
        }
    }

    @Test("under a zone that cuts the same days, a restored shard continues exactly")
    func sameDaysContinue() throws {
        let events = ChangelogRestoreTests.events()
        let (log, after) = WindowKindNamesTests.split(at: 1500)
        var h = ShardHarness(Self.settings(zone: "Asia/Singapore"))
        h.shard = try ShardProcessor.restore(settings: Self.settings(zone: "Asia/Singapore"), records: log)
        for e in events[1500...] { h.apply(e) }
        h.closeAll(through: "2026-06-01T00:00:00Z")
        let expected = WindowKindNamesTests.finals(after, of: WindowKindNamesTests.names)
        #expect(expected.count > 100)
        #expect(WindowKindNamesTests.finals(h.effects, of: WindowKindNamesTests.names) == expected)
    }

    @Test("a changelog from before the record restores under any units, as it always did")
    func withoutRecord() throws {
        let (log, _) = WindowKindNamesTests.split(at: 1500)
        let old = log.filter { $0.key != StateUnits.recordKey }
        var restored = try ShardProcessor.restore(settings: Self.settings(zone: "UTC", currency: "USD"), records: old)
        let value = try #require(StateRecord.latestValues(restored.takeChangelog())[StateUnits.recordKey] ?? nil)
        #expect(try StateUnits(reading: value) == StateUnits(timeZone: "UTC", currency: "USD"))
    }

    @Test(
        "a malformed units record, one that names no zone or currency, or a zone this machine does not know, is refused"
    )
    func malformed() throws {
        let (log, _) = WindowKindNamesTests.split(at: 1500)
        let value = try #require(StateRecord.latestValues(log)[StateUnits.recordKey] ?? nil)
        let unknown = StateUnits(timeZone: "Mars/Olympus_Mons", currency: "CNY").encoded()
        // Not looked up at all: no zone or currency is named so.
        let path = StateUnits(timeZone: "../../etc/passwd", currency: "CNY").encoded()
        let long = StateUnits(timeZone: "Asia/" + String(repeating: "x", count: 60), currency: "CNY").encoded()
        let notCurrency = StateUnits(timeZone: "Asia/Shanghai", currency: "yuan\n").encoded()
        ChangelogRestoreTests.expectRefused(
            log, StateUnits.recordKey, [Array(value.dropLast()), value + [0], unknown, path, long, notCurrency])
    }

    @Test("the rollup records its units too, and refuses another zone")
    func rollup() throws {
        let log = Self.rollupLog()
        #expect(log.filter { $0.key == StateUnits.recordKey }.count == 1)
        let refused = #expect(throws: StateUnitsChanged.self) {
            try CompanyRollup.restore(settings: Self.settings(zone: "Asia/Tokyo"), shards: 1, records: log)
        }
        #expect(refused?.setting == "time.time_zone" && refused?.configured == "Asia/Tokyo")
        _ = try CompanyRollup.restore(settings: Self.settings(zone: "Asia/Singapore"), shards: 1, records: log)
        let old = log.filter { $0.key != StateUnits.recordKey }
        var restored = try CompanyRollup.restore(settings: Self.settings(zone: "Asia/Tokyo"), shards: 1, records: old)
        #expect(restored.takeChangelog().contains { $0.key == StateUnits.recordKey })
    }
}
