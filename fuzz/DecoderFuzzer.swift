// Compiled into one module with the SalesKPI sources, so nothing is imported.

/// libFuzzer entry point: the event decoder on arbitrary bytes (scripts/fuzz.sh builds it with
/// the SalesKPI sources and `-sanitize=fuzzer,address`). Besides never crashing, whatever it
/// accepts must satisfy the contract: non-negative amounts, created_at not after occurred_at,
/// times inside the configured years, required fields present.
private let decoder = EventDecoder(
    fx: FXTable(
        reportingCurrency: "CNY",
        rates: ["USD": DecimalNumber.parse("7.10")!, "JPY": DecimalNumber.parse("0.048")!]))
private let limits = DecoderLimits()

@_cdecl("LLVMFuzzerTestOneInput")
public func decoderFuzzTarget(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    switch decoder.decode(UnsafeRawBufferPointer(start: data, count: size)) {
    case .event(let e):
        precondition(e.amount.minorUnits >= 0 && e.amount.minorUnits <= limits.maxAmountMinorUnits, "bad amount")
        precondition(e.occurredAt >= limits.earliest && e.occurredAt < limits.latest, "absurd time accepted")
        precondition(!e.eventId.isEmpty && !e.region.isEmpty, "required field empty")
        if let created = e.createdAt { precondition(created <= e.occurredAt, "created after occurred") }
        if e.type.isDeal { precondition(e.dealId != nil && e.repId != nil && e.createdAt != nil, "deal fields") }
        // Whatever was accepted re-encodes to a timestamp that parses back to the same instant.
        precondition(Timestamp.parse(Timestamp.format(e.occurredAt)) == e.occurredAt, "timestamp round trip")
    case .unknownType:
        break
    case .rejected(let r):
        precondition(r.reason != .late && !r.detail.isEmpty, "rejection without a reason")
    }
    return 0
}
