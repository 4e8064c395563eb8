/// Market sizes per region (or the company) and window kind, for market share.
package struct MarketBook: Sendable, Equatable {
    private var sizes: [String: [String: Money]] = [:]
    private static let companyKey = "\u{0}company"

    package init() {}

    package mutating func set(_ size: Money, region: String?, windowKind: String) {
        sizes[region ?? MarketBook.companyKey, default: [:]][windowKind] = size
    }

    package func size(for scope: ScopeKey, windowKind: String) -> Money? {
        switch scope.kind {
        case .rep: nil
        case .region: sizes[scope.region]?[windowKind]
        case .company: sizes[MarketBook.companyKey]?[windowKind]
        }
    }
}
