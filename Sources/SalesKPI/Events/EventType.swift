#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// The event types of docs/events.md. The `type` field, not the topic, decides what an event means.
package enum EventType: UInt8, Sendable, CaseIterable, Codable {
    case dealCreated, dealStageChanged, dealWon, dealLost
    case customerAcquired, customerChurned, spendRecorded

    package init?(wireName: String) {
        var name = wireName
        guard let type = name.withUTF8({ EventType(wireBytes: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = type
    }

    /// The type named by these UTF-8 bytes, without making a `String` of them. Every wire name
    /// has its own length, so the length picks the one candidate to compare.
    init?(wireBytes bytes: UnsafeRawBufferPointer) {
        let candidate: EventType
        switch bytes.count {
        case 12: candidate = .dealCreated
        case 18: candidate = .dealStageChanged
        case 8: candidate = .dealWon
        case 9: candidate = .dealLost
        case 17: candidate = .customerAcquired
        case 16: candidate = .customerChurned
        case 14: candidate = .spendRecorded
        default: return nil
        }
        guard memcmp(candidate.staticWireName.utf8Start, bytes.baseAddress!, bytes.count) == 0 else { return nil }
        self = candidate
    }

    private var staticWireName: StaticString {
        switch self {
        case .dealCreated: "deal.created"
        case .dealStageChanged: "deal.stage_changed"
        case .dealWon: "deal.won"
        case .dealLost: "deal.lost"
        case .customerAcquired: "customer.acquired"
        case .customerChurned: "customer.churned"
        case .spendRecorded: "spend.recorded"
        }
    }

    package var wireName: String { staticWireName.description }

    package var isDeal: Bool { self.rawValue <= EventType.dealLost.rawValue }
    package var isCustomer: Bool { self == .customerAcquired || self == .customerChurned }
    package var hasAmount: Bool { isDeal || self == .spendRecorded }
}
