/// A decoded, validated CRM event with its amount already in the reporting currency.
package struct SalesEvent: Sendable, Equatable {
    package var eventId: String
    package var type: EventType
    package var occurredAt: EpochMillis
    package var region: String
    package var repId: String?
    package var dealId: String?
    package var customerId: String?
    /// Converted to the reporting currency; zero for events without an amount.
    package var amount: Money
    package var createdAt: EpochMillis?
    package var stage: String?
    package var channel: String?

    package init(
        eventId: String, type: EventType, occurredAt: EpochMillis, region: String, repId: String? = nil,
        dealId: String? = nil, customerId: String? = nil, amount: Money = .zero, createdAt: EpochMillis? = nil,
        stage: String? = nil, channel: String? = nil
    ) {
        self.eventId = eventId
        self.type = type
        self.occurredAt = occurredAt
        self.region = region
        self.repId = repId
        self.dealId = dealId
        self.customerId = customerId
        self.amount = amount
        self.createdAt = createdAt
        self.stage = stage
        self.channel = channel
    }
}
