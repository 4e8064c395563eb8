/// Decodes and validates one CRM event straight from its message bytes (SPEC §1, §7).
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
        let eventId = try required(f.eventId, "event_id")
        let typeName = try required(f.type, "type")
        guard let type = EventType(wireName: typeName) else { return .unknownType(typeName) }
        let occurredAt = try timestamp(try required(f.occurredAt, "occurred_at"), "occurred_at")
        let region = try required(f.region, "region")
        var event = SalesEvent(eventId: eventId, type: type, occurredAt: occurredAt, region: region)
        event.repId = try optional(f.repId, "rep_id")
        if type.isDeal || type.isCustomer { _ = try required(f.repId, "rep_id") }
        if type.isDeal {
            event.dealId = try required(f.dealId, "deal_id")
            let createdAt = try timestamp(try required(f.createdAt, "created_at"), "created_at")
            guard createdAt <= occurredAt else {
                throw Rejection(.createdAfterOccurred, "created_at is after occurred_at")
            }
            event.createdAt = createdAt
        }
        if type == .dealStageChanged { event.stage = try required(f.stage, "stage") }
        if type.isCustomer { event.customerId = try required(f.customerId, "customer_id") }
        if type == .spendRecorded { event.channel = try required(f.channel, "channel") }
        if type.hasAmount {
            guard let amount = f.amount else { throw Rejection(.missingField, "amount is missing") }
            let currency = try required(f.currency, "currency")
            event.amount = try convert(amount, currency)
        }
        return .event(event)
    }

    private func required(_ value: RawEventFields.Value?, _ name: String) throws(Rejection) -> String {
        guard let s = try optional(value, name), !s.isEmpty else {
            throw Rejection(.missingField, "\(name) is missing")
        }
        return s
    }

    private func optional(_ value: RawEventFields.Value?, _ name: String) throws(Rejection) -> String? {
        switch value {
        case nil, .null: return nil
        case .string(let s):
            guard s.utf8.count <= limits.maxFieldBytes else {
                throw Rejection(.invalidField, "\(name) is longer than \(limits.maxFieldBytes) bytes")
            }
            return s
        case .number, .decimalString, .other:
            throw Rejection(.invalidField, "\(name) must be a string")
        }
    }

    private func timestamp(_ text: String, _ name: String) throws(Rejection) -> EpochMillis {
        guard let t = Timestamp.parse(text) else {
            throw Rejection(.invalidTimestamp, "\(name) is not an RFC 3339 timestamp")
        }
        guard t >= limits.earliest, t < limits.latest else {
            throw Rejection(.absurdTimestamp, "\(name) \(text) is outside the accepted range")
        }
        return t
    }

    private func convert(_ value: RawEventFields.Value, _ currency: String) throws(Rejection) -> Money {
        let decimal: DecimalNumber?
        switch value {
        case .number(let d), .decimalString(let d): decimal = d
        case .string: decimal = nil
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
