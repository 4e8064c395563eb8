/// The `cac.spike` rule for one scope: compares each closed window's CAC with the mean of the
/// previous closed windows.
package struct CACSpikeDetector: Sendable, Equatable, Codable {
    /// CAC of the most recent closed windows (oldest first), in minor units.
    package private(set) var history: [Int64] = []

    package struct Spike: Sendable, Equatable {
        package var cac: Money
        package var baseline: Double
        package var threshold: Double
    }

    package init() {}

    /// Records a closed window; returns a spike when the rule fires for it.
    package mutating func windowClosed(cac: Money?, newCustomers: Int, rule: RuleSettings.CACSpike) -> Spike? {
        guard let cac else { return nil }
        defer {
            history.append(cac.minorUnits)
            if history.count > rule.baselineWindows { history.removeFirst(history.count - rule.baselineWindows) }
        }
        guard rule.enabled, history.count >= rule.minHistory, newCustomers >= rule.minCustomers else { return nil }
        let baseline = Double(history.reduce(0, +)) / Double(history.count) / 100
        let threshold = baseline * rule.factor
        guard cac.doubleValue > threshold else { return nil }
        return Spike(cac: cac, baseline: baseline, threshold: threshold)
    }
}

/// The shard changelog's form, part of its `r` record (docs/outputs.md); the rollup's
/// changelog keeps the Codable form.
extension CACSpikeDetector {
    func write(to w: inout BinaryWriter) {
        w.count(history.count)
        for cac in history { w.int(cac) }
    }

    init(reading r: inout BinaryReader) throws(BinaryReader.Malformed) {
        for _ in 0..<(try r.count()) { history.append(try r.int()) }
    }
}
