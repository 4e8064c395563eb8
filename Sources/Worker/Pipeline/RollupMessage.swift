import Foundation
import SalesKPI

/// What aggregate tasks tell the rollup stage through the rollup topic: a region summary's
/// mergeable parts, a region's customer change, or a task's watermark.
struct RollupMessage {
    var partition: Int32
    var watermark: EpochMillis?
    /// The task's first watermark (see `CompanyRollup.shardWatermark`).
    var coverage: EpochMillis?
    /// The task has never had an event and every source of it is idle without any progress.
    var emptyShard: Bool?
    var window: Window?
    var region: String?
    var final: Bool?
    var aggregate: KPIAggregate?
    /// A net customer change at a window boundary (`ShardEffect.customers`).
    var customers: (at: EpochMillis, delta: Int32)?

    static func summary(_ s: Summary, partition: Int32) -> RollupMessage {
        RollupMessage(
            partition: partition, window: s.window, region: s.scope.region, final: s.final, aggregate: s.aggregate)
    }

    static func customers(at time: EpochMillis, delta: Int32, region: String, partition: Int32) -> RollupMessage {
        RollupMessage(partition: partition, region: region, customers: (time, delta))
    }

    static func watermark(_ w: EpochMillis, coverage: EpochMillis?, partition: Int32) -> RollupMessage {
        RollupMessage(partition: partition, watermark: w, coverage: coverage)
    }

    static func empty(partition: Int32) -> RollupMessage { RollupMessage(partition: partition, emptyShard: true) }

    /// First byte of a batch: the version of its format. Any other is refused.
    /// (0xB1, before customer changes, is refused too: the rollup could not count customers
    /// of regions without a summary from it.)
    static let binaryVersion: UInt8 = 0xB2

    /// A batch's bytes past which the next message starts a new record: a task of a thousand
    /// regions reports megabytes at once, and a record past the producer's `message.max.bytes`
    /// (1,000,000 by default) would fail every transaction of the stage.
    static let maxBatchBytes = 256 * 1024

    /// Several messages per record, in order. Binary: JSON encoding of the region summaries
    /// was 2.5% of the aggregate stage's time and JSON decoding most of the rollup stage's.
    /// The messages as consecutive batches of about `maxBatchBytes` at most (one message more
    /// at worst; a message is a few kilobytes), in order.
    static func batches(_ messages: [RollupMessage], maxBytes: Int = maxBatchBytes) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var body = BinaryWriter(capacity: min(maxBytes, 16 + 48 * messages.count))
        var count = 0
        func close() {
            var w = BinaryWriter(capacity: body.bytes.count + 16)
            w.byte(binaryVersion)
            w.count(count)
            w.raw(body.bytes)
            out.append(w.bytes)
            body.reset()
            count = 0
        }
        for m in messages {
            m.write(to: &body)
            count += 1
            if body.bytes.count >= maxBytes { close() }
        }
        if count > 0 { close() }
        return out
    }

    /// A batch read back; nil when it is not one of this version.
    static func decodeBatch(_ bytes: [UInt8]) -> [RollupMessage]? {
        guard bytes.first == binaryVersion else { return nil }
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
        w.byte(emptyShard.map { $0 ? 2 : 1 } ?? 0)
        w.byte(final.map { $0 ? 2 : 1 } ?? 0)
        w.bool(window != nil)
        window?.write(to: &w)
        w.bool(region != nil)
        if let region { w.string(region) }
        w.bool(aggregate != nil)
        aggregate?.write(to: &w)
        w.bool(customers != nil)
        if let customers {
            w.int(customers.at)
            w.int(customers.delta)
        }
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
        emptyShard = try flag(try r.byte())
        final = try flag(try r.byte())
        window = try r.bool() ? try Window(reading: &r) : nil
        region = try r.bool() ? try r.string() : nil
        aggregate = try r.bool() ? try KPIAggregate(reading: &r) : nil
        customers = try r.bool() ? (try r.int(), try r.int32()) : nil
    }
}
