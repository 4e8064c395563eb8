import Foundation

/// A mergeable, retractable quantile sketch with bounded relative error (DDSketch's log buckets).
///
/// A value v > 0 lands in bin ⌈log_γ v⌉ with γ = (1+α)/(1−α); every bin's representative is
/// within α of all values in it, so any quantile is within α (1 %) relative error. Bins are a
/// small sorted array because cycle times of one scope and window cluster in few bins.
package struct QuantileSketch: Sendable, Equatable, Codable {
    package static let relativeAccuracy = 0.01
    static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    static let logGamma = log(gamma)
    /// Values at or below this (in days) count as zero: a deal won the second it was opened.
    static let zeroThreshold = 1e-9

    /// The lowest bin (count 0: none) is kept inline and only the others in an array: most
    /// windows see one cycle time or a few alike, and an array is a heap block of 48 bytes.
    private var first = Bin(index: 0, count: 0)
    private var rest: [Bin] = []
    package private(set) var zeroCount: UInt32 = 0

    /// The non-empty bins, by index.
    package var bins: [Bin] { first.count == 0 ? [] : [first] + rest }

    /// How many bins are non-empty.
    package var binCount: Int { first.count == 0 ? 0 : 1 + rest.count }

    /// The non-empty bins, by index, without building an array.
    package func forEachBin(_ body: (Bin) -> Void) {
        guard first.count > 0 else { return }
        body(first)
        for bin in rest { body(bin) }
    }

    /// Stores sorted, non-empty bins in the canonical inline-first form (so == compares contents).
    private mutating func store(_ sorted: [Bin]) {
        first = sorted.first ?? Bin(index: 0, count: 0)
        rest = sorted.count > 1 ? Array(sorted.dropFirst()) : []
    }

    package struct Bin: Sendable, Equatable, Codable {
        package var index: Int16
        package var count: UInt32

        package init(index: Int16, count: UInt32) {
            self.index = index
            self.count = count
        }
    }

    package init() {}

    package init(zeroCount: UInt32, bins: [Bin]) {
        self.zeroCount = zeroCount
        store(bins.filter { $0.count > 0 }.sorted { $0.index < $1.index })
    }

    package var count: Int { Int(zeroCount) + Int(first.count) + rest.reduce(0) { $0 + Int($1.count) } }

    static func binIndex(_ value: Double) -> Int16 {
        Int16(clamping: Int((log(value) / logGamma).rounded(.up)))
    }

    static func representative(_ index: Int16) -> Double {
        2 * pow(gamma, Double(index)) / (gamma + 1)
    }

    /// Where a value lands: the zero count (nil) or a bin. Found once per event, it serves
    /// every window the event reaches (a logarithm per window was a sketch update's cost).
    package struct Slot: Sendable, Equatable {
        let bin: Int16?

        package init(_ value: Double) {
            bin = value <= QuantileSketch.zeroThreshold ? nil : QuantileSketch.binIndex(value)
        }
    }

    package mutating func add(_ value: Double) { adjust(Slot(value), by: 1) }

    /// Removes one earlier `add` of the same value (a retracted deal).
    package mutating func remove(_ value: Double) { adjust(Slot(value), by: -1) }

    package mutating func add(_ slot: Slot) { adjust(slot, by: 1) }

    package mutating func remove(_ slot: Slot) { adjust(slot, by: -1) }

    private mutating func adjust(_ slot: Slot, by delta: Int) {
        guard let index = slot.bin else {
            zeroCount = UInt32(Int(zeroCount) + delta)
            return
        }
        // In place, in the inline-first form: this runs for every won deal in every window it
        // reaches, and building the bins as one array would cost two allocations each time.
        if first.count == 0 {
            if delta > 0 { first = Bin(index: index, count: UInt32(delta)) }
            return
        }
        if index == first.index {
            let next = Int(first.count) + delta
            if next > 0 {
                first.count = UInt32(next)
            } else {
                first = rest.isEmpty ? Bin(index: 0, count: 0) : rest.removeFirst()
            }
            return
        }
        if index < first.index {
            guard delta > 0 else { return }
            rest.insert(first, at: 0)
            first = Bin(index: index, count: UInt32(delta))
            return
        }
        let lo = rest.lowerBound { $0.index < index }
        if lo < rest.count, rest[lo].index == index {
            let next = Int(rest[lo].count) + delta
            if next == 0 { rest.remove(at: lo) } else { rest[lo].count = UInt32(next) }
        } else if delta > 0 {
            rest.insert(Bin(index: index, count: UInt32(delta)), at: lo)
        }
    }

    package mutating func merge(_ other: QuantileSketch) {
        // Saturating, as `KPIAggregate.merge`: a company of many regions at their bound.
        zeroCount = zeroCount.addingReportingOverflow(other.zeroCount).overflow ? .max : zeroCount + other.zeroCount
        var bins = self.bins
        defer { store(bins) }
        for bin in other.bins {
            if let k = bins.firstIndex(where: { $0.index == bin.index }) {
                let (sum, overflow) = bins[k].count.addingReportingOverflow(bin.count)
                bins[k].count = overflow ? .max : sum
            } else {
                bins.append(bin)
            }
        }
        bins.sort { $0.index < $1.index }
    }

    /// The value at rank ⌊q·(n−1)⌋ of the sorted values, within the sketch's relative accuracy.
    package func quantile(_ q: Double) -> Double? {
        let n = count
        guard n > 0 else { return nil }
        let rank = Int((q * Double(n - 1)).rounded(.down))
        var seen = Int(zeroCount)
        if rank < seen { return 0 }
        var last = first.index
        var found: Int16?
        forEachBin { bin in
            guard found == nil else { return }
            seen += Int(bin.count)
            last = bin.index
            if rank < seen { found = bin.index }
        }
        return QuantileSketch.representative(found ?? last)
    }
}
