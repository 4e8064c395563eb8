import Foundation
import SalesKPI

/// What aggregate tasks tell the rollup stage through the rollup topic: a region summary's
/// mergeable parts, or a task's watermark.
struct RollupMessage: Codable {
    var partition: Int32
    var watermark: EpochMillis?
    /// The task's first watermark (see `CompanyRollup.shardWatermark`).
    var coverage: EpochMillis?
    /// The task has no data and has read all there is.
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

    static func idle(partition: Int32) -> RollupMessage { RollupMessage(partition: partition, idle: true) }

    /// Several messages in one record, in order.
    static func batch(_ messages: [RollupMessage]) -> [UInt8] { Array(try! JSONEncoder().encode(messages)) }

    /// Back into a region summary for `CompanyRollup.ingest`.
    func regionSummary(settings: KPISettings) -> Summary? {
        guard let window, let region, let aggregate, Int(window.kind) < settings.windows.count else { return nil }
        return Summary(
            scope: .region(region), window: window, windowName: settings.windows[Int(window.kind)].name,
            final: final ?? false, revision: 0, aggregate: aggregate, watermark: .min, target: nil, marketSize: nil)
    }
}
