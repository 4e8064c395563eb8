import Foundation

/// A generated CRM event stream for pipeline tests, with the facts the reference computation
/// needs kept alongside the JSON bytes (never re-read through the code under test).
package struct Scenario: Sendable {
    package struct Event: Sendable {
        package var eventId: String
        package var type: String
        package var time: Int64
        package var region: String
        package var rep: String?
        package var deal: String?
        /// Amount in fen (CNY minor units) after conversion.
        package var amountMinor: Int64
        package var createdAt: Int64?

        package init(
            eventId: String, type: String, time: Int64, region: String, rep: String? = nil, deal: String? = nil,
            amountMinor: Int64, createdAt: Int64? = nil
        ) {
            self.eventId = eventId
            self.type = type
            self.time = time
            self.region = region
            self.rep = rep
            self.deal = deal
            self.amountMinor = amountMinor
            self.createdAt = createdAt
        }
    }

    package struct Message: Sendable {
        package enum Kind: Sendable, Equatable {
            /// Index into `events`.
            case good(Int)
            case duplicate(Int)
            case bad(reason: String)
            case unknownType
        }

        package var topic: String
        /// Written to this partition (else the producer's partitioner decides by key).
        package var partition: Int32?
        package var key: [UInt8]?
        package var value: [UInt8]
        package var kind: Kind

        package init(topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8], kind: Kind) {
            self.topic = topic
            self.partition = partition
            self.key = key
            self.value = value
            self.kind = kind
        }
    }

    /// Every distinct valid event, late ones included.
    package var events: [Event] = []
    /// Phase 1: the bulk, in produce order.
    package var bulk: [Message] = []
    /// Phase 2: events far behind the watermark (sent once the bulk is processed).
    package var late: [Message] = []
    /// Phase 3: time-only events that push every window closed: one per region and one in every
    /// partition of every input topic (each partition's progress must pass the windows).
    package var closing: [Message] = []

    package var regions: [String] = []

    package init() {}

    /// Events that count: neither late nor time-only.
    package var lateEventIds: Set<String> {
        Set(late.compactMap { if case .good(let i) = $0.kind { events[i].eventId } else { nil } })
    }
}
