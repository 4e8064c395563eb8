import Foundation

/// The binary form of the shard's changelog values (see `BinaryWriter`).
///
/// Every value starts with `StateEncoding.version`; a value of any other version is refused
/// with `UnknownVersion`, never guessed at.
package enum StateEncoding {
    static let version: UInt8 = 0xB1

    /// A changelog value this version of the worker cannot read (a shard's, or the rollup's).
    package struct UnknownVersion: Error, CustomStringConvertible {
        var found: UInt8?
        /// The versions a record of this kind may have (a rollup part: two).
        var reads: [UInt8]
        package init(found: UInt8?, reads: UInt8 = StateEncoding.version) {
            self.init(found: found, reads: [reads])
        }
        package init(found: UInt8?, reads: [UInt8]) {
            self.found = found
            self.reads = reads
        }
        package var description: String {
            func hex(_ b: UInt8) -> String { "0x" + String(b, radix: 16, uppercase: true) }
            let versions =
                reads.count == 1
                ? "version \(hex(reads[0])) only" : "versions \(reads.map(hex).joined(separator: " and "))"
            return "a changelog record of format version \(found.map(hex) ?? "nothing"); "
                + "this worker reads \(versions)"
        }
    }

    /// The version of the rollup's changelog records (JSON): one writer for the whole company.
    static let rollupVersion: UInt8 = 0xC3

    /// `version` followed by the record's JSON.
    package static func json(_ record: some Encodable, version: UInt8) -> [UInt8] {
        // Encoding these plain Codable values to JSON cannot fail.
        [version] + Array(try! JSONEncoder().encode(record))
    }

    /// The record in a `json(_:version:)` value; a value of another version is refused.
    package static func decode<T: Decodable>(_: T.Type, _ value: [UInt8], version: UInt8) throws -> T {
        guard value.first == version else { throw UnknownVersion(found: value.first, reads: version) }
        return try JSONDecoder().decode(T.self, from: Data(value.dropFirst()))
    }

    /// A reader past the version byte of `value`.
    static func reader(_ value: [UInt8]) throws -> BinaryReader {
        guard value.first == version else { throw UnknownVersion(found: value.first) }
        var r = BinaryReader(value)
        _ = try r.byte()
        return r
    }
}

extension ScopeKey {
    func write(to w: inout BinaryWriter) {
        let code: UInt8 =
            switch kind {
            case .rep: 0
            case .region: 1
            case .company: 2
            }
        w.byte(code)
        w.string(region)
        w.string(rep)
    }

    init(reading r: inout BinaryReader) throws(BinaryReader.Malformed) {
        let kind: Kind =
            switch try r.byte() {
            case 0: .rep
            case 1: .region
            case 2: .company
            default: throw BinaryReader.Malformed()
            }
        self.init(kind: kind, region: try r.string(), rep: try r.string())
    }
}

extension Window {
    package func write(to w: inout BinaryWriter) {
        w.byte(kind)
        w.int(start)
        // Wrapping, as the reader adds it back: total for any window, even one read from
        // damaged bytes, never a trap.
        w.int(end &- start)
    }

    package init(reading r: inout BinaryReader) throws(BinaryReader.Malformed) {
        let kind = try r.byte()
        let start = try r.int()
        self.init(kind: kind, start: start, end: start &+ (try r.int()))
    }
}

extension KPIAggregate {
    package func write(to w: inout BinaryWriter) {
        w.int(revenue.minorUnits)
        w.int(won)
        w.int(lost)
        w.int(cycleMillisSum)
        w.int(Int64(cycleSketch.zeroCount))
        w.count(cycleSketch.binCount)
        cycleSketch.forEachBin { bin in
            w.int(Int64(bin.index))
            w.int(Int64(bin.count))
        }
        w.int(newCustomers)
        w.int(churnedCustomers)
        w.int(activeCustomersStart)
        w.int(spend.minorUnits)
    }

    package init(reading r: inout BinaryReader) throws(BinaryReader.Malformed) {
        self.init()
        revenue = Money(minorUnits: try r.int())
        won = try r.int32()
        lost = try r.int32()
        cycleMillisSum = try r.int()
        let zero = UInt32(clamping: try r.int())
        var bins: [QuantileSketch.Bin] = []
        let n = try r.count()
        bins.reserveCapacity(n)
        for _ in 0..<n {
            bins.append(QuantileSketch.Bin(index: Int16(clamping: try r.int()), count: UInt32(clamping: try r.int())))
        }
        cycleSketch = QuantileSketch(zeroCount: zero, bins: bins)
        newCustomers = try r.int32()
        churnedCustomers = try r.int32()
        activeCustomersStart = try r.int32()
        spend = Money(minorUnits: try r.int())
    }
}

extension ScopeState {
    func write(to w: inout BinaryWriter) {
        w.count(windows.count)
        windows.forEach { window, state in
            window.write(to: &w)
            state.aggregate.write(to: &w)
            w.int(state.revision)
            w.bool(state.dirty)
        }
        ledger.write(to: &w)
        w.int(lastActivity)
    }

    init(reading r: inout BinaryReader) throws(BinaryReader.Malformed) {
        self.init()
        for _ in 0..<(try r.count()) {
            let window = try Window(reading: &r)
            var state = WindowState()
            state.aggregate = try KPIAggregate(reading: &r)
            state.revision = try r.int32()
            state.dirty = try r.bool()
            windows[window] = state
        }
        ledger = try CustomerLedger(reading: &r)
        // Absent from records written before reps were dropped when idle (the restore fills in).
        if !r.isAtEnd { lastActivity = try r.int() }
    }
}

extension DealBook.Outcome {
    func write(to w: inout BinaryWriter) {
        w.int(occurredAt)
        w.string(eventId)
        w.string(rep)
        w.int(amount.minorUnits)
        w.int(cycleMillis)
    }

    init(reading r: inout BinaryReader) throws(BinaryReader.Malformed) {
        self.init(
            occurredAt: try r.int(), eventId: try r.string(), rep: try r.string(),
            amount: Money(minorUnits: try r.int()), cycleMillis: try r.int())
    }
}

extension WindowKindNames {
    /// The shard's `k` record.
    func encoded() -> [UInt8] {
        var w = BinaryWriter()
        w.byte(StateEncoding.version)
        w.count(names.count)
        for name in names { w.string(name) }
        return w.bytes
    }

    init(reading value: [UInt8]) throws {
        var r = try StateEncoding.reader(value)
        var names: [String] = []
        for _ in 0..<(try r.count()) { names.append(try r.string()) }
        guard r.isAtEnd else { throw BinaryReader.Malformed() }
        self.init(names)
        guard isWellFormed else { throw BinaryReader.Malformed() }
    }
}

extension StateUnits {
    /// The shard's `u` record.
    func encoded() -> [UInt8] {
        var w = BinaryWriter()
        w.byte(StateEncoding.version)
        w.string(timeZone)
        w.string(currency)
        return w.bytes
    }

    init(reading value: [UInt8]) throws {
        var r = try StateEncoding.reader(value)
        let timeZone = try r.string()
        let currency = try r.string()
        guard r.isAtEnd else { throw BinaryReader.Malformed() }
        self.init(timeZone: timeZone, currency: currency)
    }
}
