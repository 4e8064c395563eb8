/// The event types of SPEC §1. The `type` field, not the topic, decides what an event means.
package enum EventType: UInt8, Sendable, CaseIterable, Codable {
    case dealCreated, dealStageChanged, dealWon, dealLost
    case customerAcquired, customerChurned, spendRecorded

    package init?(wireName: String) {
        switch wireName {
        case "deal.created": self = .dealCreated
        case "deal.stage_changed": self = .dealStageChanged
        case "deal.won": self = .dealWon
        case "deal.lost": self = .dealLost
        case "customer.acquired": self = .customerAcquired
        case "customer.churned": self = .customerChurned
        case "spend.recorded": self = .spendRecorded
        default: return nil
        }
    }

    private static let wireBytes: [(EventType, [UInt8])] = allCases.map { ($0, Array($0.wireName.utf8)) }

    /// The type named by these UTF-8 bytes, without making a `String` of them.
    init?(wireBytes bytes: UnsafeRawBufferPointer) {
        for (type, name) in Self.wireBytes where name.count == bytes.count && name.elementsEqual(bytes) {
            self = type
            return
        }
        return nil
    }

    package var wireName: String {
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

    package var isDeal: Bool { self.rawValue <= EventType.dealLost.rawValue }
    package var isCustomer: Bool { self == .customerAcquired || self == .customerChurned }
    package var hasAmount: Bool { isDeal || self == .spendRecorded }
}
