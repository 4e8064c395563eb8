// Compiled into one module with the SalesKPI sources, so nothing is imported.

/// libFuzzer entry point for the binary forms the worker reads back from its own topics
/// (scripts/fuzz.sh): a routed event's decoded copy, a shard's changelog records and the company
/// rollup's. They come from Kafka, so they are untrusted too: bad bytes must be refused with an
/// error, never crash, and what is accepted must survive being used (windows closed, summaries
/// built). The first byte picks the record kind and key; the rest is the value.
private let settings: KPISettings = {
    var s = KPISettings(
        windows: ["day", "week", "month", "quarter", "1h"].map { WindowSpec.parse($0)! },
        calendar: BusinessCalendar(timeZoneIdentifier: "Asia/Shanghai")!)
    s.allowedLatenessMillis = 3_600_000
    return s
}()

private let shardKeys = [
    "m", "s|east", "s|east/r1", "D|7", "W|3", "L|3", "r", "h|region\u{1}east",
    "c|0\u{1}1767196800000\u{1}1767283200000\u{1}rep\u{1}east\u{1}r1", "k", "u",
]
private let rollupKeys = [
    "m", "p|0|1767196800000|1767283200000|east", "p|9|0|1|west", "f|0|1767196800000|1767283200000", "k", "u",
]
/// Half the inputs are restored as if written under the configured kinds in reverse order
/// (a `k` record before them): every window kind in them is then renumbered by name.
private let reversedKinds = WindowKindNames(settings.windows.reversed().map(\.name))

private func records(_ key: String, _ value: [UInt8], reversed: Bool, rollup: Bool) -> [StateRecord] {
    let record = StateRecord(key: key, value: value)
    guard reversed, key != WindowKindNames.recordKey else { return [record] }
    let kinds =
        rollup ? StateEncoding.json(reversedKinds, version: StateEncoding.rollupVersion) : reversedKinds.encoded()
    return [StateRecord(key: WindowKindNames.recordKey, value: kinds), record]
}
/// Where a restored shard's event time is taken next: three days past where it was (or
/// 2026-01-01), a few hundred windows to close, not a century of them.
private func later(_ t: EpochMillis) -> EpochMillis {
    let from = t == .min ? 1_767_196_800_000 : t
    let (next, overflow) = from.addingReportingOverflow(3 * 86_400_000)
    return overflow ? from : next
}

@_cdecl("LLVMFuzzerTestOneInput")
public func stateFuzzTarget(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let selector = bytes.first else { return 0 }
    let value = Array(bytes.dropFirst())
    var effects: [ShardEffect] = []
    switch selector % 3 {
    case 0:
        guard let event = try? value.withUnsafeBytes({ try SalesEvent(binary: $0) }) else { return 0 }
        var w = BinaryWriter()
        event.write(to: &w)
        let again = try? w.bytes.withUnsafeBytes { try SalesEvent(binary: $0) }
        precondition(again == event, "a decoded event copy does not read back as itself")
    case 1:
        let key = shardKeys[Int(selector / 3) % shardKeys.count]
        let reversed = Int(selector / 3) / shardKeys.count % 2 == 1
        guard
            var shard = try? ShardProcessor.restore(
                settings: settings, records: records(key, value, reversed: reversed, rollup: false))
        else { return 0 }
        shard.advanceProgress(to: later(shard.watermark), effects: &effects)
        _ = shard.takeChangelog()
    default:
        let key = rollupKeys[Int(selector / 3) % rollupKeys.count]
        let reversed = Int(selector / 3) / rollupKeys.count % 2 == 1
        guard
            var rollup = try? CompanyRollup.restore(
                settings: settings, shards: 2, records: records(key, value, reversed: reversed, rollup: true))
        else { return 0 }
        let t = later(1_767_196_800_000)
        rollup.shardWatermark(0, t, coverage: nil, effects: &effects)
        rollup.shardWatermark(1, t, coverage: nil, effects: &effects)
        _ = rollup.takeChangelog()
    }
    return 0
}
