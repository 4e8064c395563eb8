import Foundation
import SalesKPI

/// What aggregate tasks tell the rollup stage through the rollup topic: a region summary's
/// mergeable parts, or a task's watermark.
struct RollupMessage: Codable {
    var partition: Int32
    var watermark: EpochMillis?
    /// The task's first watermark (see `CompanyRollup.shardWatermark`).
    var coverage: EpochMillis?
    /// The task has never had an event and every source of it is idle without any progress.
    var idle: Bool?
    var window: Window?
    var region: String?
    var final: Bool?
    var aggregate: KPIAggregate?

    static func summary(_ s: Summary, partition: Int32) -> RollupMessage {
        RollupMessage(
            partition: partition, window: s.window, region: s.scope.region, final: s.final, aggregate: s.aggregate)
    }

    static func watermark(_ w: EpochMillis, coverage: EpochMillis?, partition: Int32) -> RollupMessage {
        RollupMessage(partition: partition, watermark: w, coverage: coverage)
    }

    static func empty(partition: Int32) -> RollupMessage { RollupMessage(partition: partition, idle: true) }

    /// First byte of a binary batch; a batch of the earlier JSON form starts with `[`.
    static let binaryVersion: UInt8 = 0xB1

    /// Several messages in one record, in order. Binary: JSON encoding of the region summaries
    /// was 2.5% of the aggregate stage's time and JSON decoding most of the rollup stage's.
    static func batch(_ messages: [RollupMessage]) -> [UInt8] {
        var w = BinaryWriter(capacity: 16 + 48 * messages.count)
        w.byte(binaryVersion)
        w.count(messages.count)
        for m in messages { m.write(to: &w) }
        return w.bytes
    }

    /// A batch read back; nil when it is neither form.
    static func decodeBatch(_ bytes: [UInt8]) -> [RollupMessage]? {
        guard bytes.first == binaryVersion else {
            return try? JSONDecoder().decode([RollupMessage].self, from: Data(bytes))
        }
        var r = BinaryReader(bytes)
        do {
            _ = try r.byte()
            let count = try r.count()
            var out: [RollupMessage] = []
            out.reserveCapacity(count)
            for _ in 0..<count { out.append(try RollupMessage(reading: &r)) }
            return out
        } catch {
            return nil
        }
    }

    /// Back into a region summary for `CompanyRollup.ingest`.
    func regionSummary(settings: KPISettings) -> Summary? {
        guard let window, let region, let aggregate, Int(window.kind) < settings.windows.count else { return nil }
        return Summary(
            scope: .region(region), window: window, windowName: settings.windows[Int(window.kind)].name,
            final: final ?? false, revision: 0, aggregate: aggregate, watermark: .min, target: nil, marketSize: nil)
    }
}

extension RollupMessage {
    fileprivate func write(to w: inout BinaryWriter) {
        w.int(partition)
        w.int(watermark)
        w.int(coverage)
        w.byte(idle.map { $0 ? 2 : 1 } ?? 0)
        w.byte(final.map { $0 ? 2 : 1 } ?? 0)
        w.bool(window != nil)
        window?.write(to: &w)
        w.bool(region != nil)
        if let region { w.string(region) }
        w.bool(aggregate != nil)
        aggregate?.write(to: &w)
    }

    fileprivate init(reading r: inout BinaryReader) throws(BinaryReader.Malformed) {
        func flag(_ b: UInt8) throws(BinaryReader.Malformed) -> Bool? {
            switch b {
            case 0: return nil
            case 1: return false
            case 2: return true
            default: throw BinaryReader.Malformed()
            }
        }
        partition = try r.int32()
        watermark = try r.optionalInt()
        coverage = try r.optionalInt()
        idle = try flag(try r.byte())
        final = try flag(try r.byte())
        window = try r.bool() ? try Window(reading: &r) : nil
        region = try r.bool() ? try r.string() : nil
        aggregate = try r.bool() ? try KPIAggregate(reading: &r) : nil
    }
}
