/// Decodes and validates one CRM event straight from its message bytes (docs/events.md).
package struct EventDecoder: Sendable {
    package var fx: FXTable
    package var limits: DecoderLimits

    package init(fx: FXTable, limits: DecoderLimits = DecoderLimits()) {
        self.fx = fx
        self.limits = limits
    }

    package func decode(_ bytes: [UInt8]) -> DecodeOutcome {
        bytes.withUnsafeBytes { decode($0) }
    }

    /// Decodes an event received at wall time `now`: one dated more than `limits.maxFuture`
    /// after it is rejected, so it never moves event-time progress (docs/guarantees.md).
    package func decode(_ bytes: UnsafeRawBufferPointer, now: EpochMillis) -> DecodeOutcome {
        let outcome = decode(bytes)
        if case .event(let event) = outcome, let rejection = futureRejection(event, now: now) {
            return .rejected(rejection)
        }
        return outcome
    }

    package func futureRejection(_ event: SalesEvent, now: EpochMillis) -> Rejection? {
        let (bound, overflow) = now.addingReportingOverflow(limits.maxFuture)
        guard !overflow, event.occurredAt > bound else { return nil }
        return Rejection(
            .futureTimestamp,
            "occurred_at \(Timestamp.format(event.occurredAt)) is more than \(limits.maxFuture / 1000) s after the wall clock \(Timestamp.format(now))"
        )
    }

    package func decode(_ bytes: UnsafeRawBufferPointer) -> DecodeOutcome {
        if bytes.isEmpty { return .rejected(Rejection(.emptyPayload, "empty message")) }
        if bytes.count > limits.maxPayloadBytes {
            return .rejected(
                Rejection(.tooLarge, "\(bytes.count) bytes exceeds the limit of \(limits.maxPayloadBytes)"))
        }
        let fields: RawEventFields
        do {
            fields = try RawEventFields.scan(bytes, maxDepth: limits.maxDepth)
        } catch {
            switch error {
            case .invalidUTF8: return .rejected(Rejection(.invalidUTF8, "payload is not valid UTF-8"))
            case .malformed(let why): return .rejected(Rejection(.malformedJSON, why))
            }
        }
        do {
            return try validate(fields)
        } catch let rejection {
            return .rejected(rejection)
        }
    }

    private func validate(_ f: RawEventFields) throws(Rejection) -> DecodeOutcome {
        let eventId = try required(f.eventId, "event_id", f)
        let type: EventType
        if case .text(let range)? = f.type, let known = EventType(wireBytes: f.slice(range)) {
            type = known
        } else {
            let typeName = try required(f.type, "type", f)
            guard let known = EventType(wireName: typeName) else { return .unknownType(typeName) }
            type = known
        }
        let occurredAt = try timestamp(f.occurredAt, "occurred_at", f)
        let region = try required(f.region, "region", f)
        try checkId(region, "region")
        let repId = try optional(f.repId, "rep_id", f)
        if let repId { try checkId(repId, "rep_id") }
        if (type.isDeal || type.isCustomer) && (repId ?? "").isEmpty {
            throw Rejection(.missingField, "rep_id is missing")
        }
        var dealId: String?
        var createdAt: EpochMillis?
        if type.isDeal {
            dealId = try required(f.dealId, "deal_id", f)
            let created = try timestamp(f.createdAt, "created_at", f)
            guard created <= occurredAt else {
                throw Rejection(.createdAfterOccurred, "created_at is after occurred_at")
            }
            createdAt = created
        }
        let stage = type == .dealStageChanged ? try required(f.stage, "stage", f) : nil
        let customerId = type.isCustomer ? try required(f.customerId, "customer_id", f) : nil
        let channel = type == .spendRecorded ? try required(f.channel, "channel", f) : nil
        var amount = Money.zero
        if type.hasAmount {
            guard let raw = f.amount else { throw Rejection(.missingField, "amount is missing") }
            let currency = try required(f.currency, "currency", f)
            amount = try convert(raw, currency)
        }
        // Built once, in the return: a var filled field by field was copied into the outcome.
        return .event(
            SalesEvent(
                eventId: eventId, type: type, occurredAt: occurredAt, region: region, repId: repId, dealId: dealId,
                customerId: customerId, amount: amount, createdAt: createdAt, stage: stage, channel: channel))
    }

    private func required(_ value: RawEventFields.Value?, _ name: String, _ f: RawEventFields) throws(Rejection)
        -> String
    {
        guard let s = try optional(value, name, f), !s.isEmpty else {
            throw Rejection(.missingField, "\(name) is missing")
        }
        return s
    }

    private func optional(_ value: RawEventFields.Value?, _ name: String, _ f: RawEventFields) throws(Rejection)
        -> String?
    {
        switch value {
        case nil, .null: return nil
        case .text(let range):
            try checkLength(range.count, name)
            return String(decoding: f.slice(range), as: UTF8.self)
        case .string(let s):
            try checkLength(s.utf8.count, name)
            return s
        case .number, .decimalString, .other:
            throw Rejection(.invalidField, "\(name) must be a string")
        }
    }

    /// Ids become scope ids (`east/rep-7`), message keys and alert text: no `/` (the scope
    /// separator), no control or format characters (line breaks, bidi overrides), bounded length.
    private func checkId(_ id: String, _ name: String) throws(Rejection) {
        guard id.utf8.count <= limits.maxIdBytes else {
            throw Rejection(.invalidField, "\(name) is longer than \(limits.maxIdBytes) bytes")
        }
        let plain = id.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") }
        }
        if plain == true { return }
        for scalar in id.unicodeScalars {
            if scalar == "/" { throw Rejection(.invalidField, "\(name) contains '/', the scope id separator") }
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator:
                throw Rejection(
                    .invalidField,
                    "\(name) contains the control character U+\(String(scalar.value, radix: 16, uppercase: true))")
            default: continue
            }
        }
    }

    private func checkLength(_ count: Int, _ name: String) throws(Rejection) {
        guard count <= limits.maxFieldBytes else {
            throw Rejection(.invalidField, "\(name) is longer than \(limits.maxFieldBytes) bytes")
        }
    }

    /// A required timestamp field, parsed from the payload bytes when it has no escapes.
    private func timestamp(_ value: RawEventFields.Value?, _ name: String, _ f: RawEventFields) throws(Rejection)
        -> EpochMillis
    {
        let parsed: EpochMillis?
        if case .text(let range)? = value, !range.isEmpty {
            try checkLength(range.count, name)
            parsed = Timestamp.parse(f.slice(range))
        } else {
            parsed = Timestamp.parse(try required(value, name, f))
        }
        guard let t = parsed else {
            throw Rejection(.invalidTimestamp, "\(name) is not an RFC 3339 timestamp")
        }
        guard t >= limits.earliest, t < limits.latest else {
            throw Rejection(
                .absurdTimestamp, "\(name) \(try required(value, name, f)) is outside the accepted range")
        }
        return t
    }

    private func convert(_ value: RawEventFields.Value, _ currency: String) throws(Rejection) -> Money {
        let decimal: DecimalNumber?
        switch value {
        case .number(let d), .decimalString(let d): decimal = d
        case .string, .text: decimal = nil
        case .null: throw Rejection(.missingField, "amount is missing")
        case .other: throw Rejection(.invalidField, "amount must be a number or a decimal string")
        }
        guard let decimal else { throw Rejection(.invalidAmount, "amount is out of range or not a decimal") }
        guard !decimal.isNegative else { throw Rejection(.negativeAmount, "amount \(decimal) is negative") }
        guard let rate = fx.rate(for: currency) else {
            throw Rejection(.unknownCurrency, "currency \(currency) has no configured rate")
        }
        guard let money = Money.convert(decimal, rate: rate), money.minorUnits <= limits.maxAmountMinorUnits else {
            throw Rejection(.invalidAmount, "amount \(decimal) \(currency) is out of range")
        }
        return money
    }
}
