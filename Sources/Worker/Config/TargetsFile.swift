/// `config/targets.yaml`: sales targets per scope and period, in the reporting currency.
package struct TargetsFile: Codable, Sendable, Equatable {
    package var targets: [Entry] = []

    package struct Entry: Codable, Sendable, Equatable {
        /// `rep`, `region` or `company`.
        package var scope: String
        package var region: String?
        package var rep: String?
        /// `month` or `quarter` (any calendar window kind).
        package var period: String
        /// Decimal amount in the reporting currency.
        package var amount: String

        package init(scope: String, region: String? = nil, rep: String? = nil, period: String, amount: String) {
            self.scope = scope
            self.region = region
            self.rep = rep
            self.period = period
            self.amount = amount
        }
    }

    package init(targets: [Entry] = []) { self.targets = targets }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        targets = try c.decodeIfPresent([Entry].self, forKey: .targets) ?? []
    }
}

/// `config/markets.yaml`: market size per region (and the company) per window kind.
package struct MarketsFile: Codable, Sendable, Equatable {
    /// region → window kind → decimal amount.
    package var regions: [String: [String: String]] = [:]
    /// window kind → decimal amount.
    package var company: [String: String] = [:]

    package init(regions: [String: [String: String]] = [:], company: [String: String] = [:]) {
        self.regions = regions
        self.company = company
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        regions = try c.decodeIfPresent([String: [String: String]].self, forKey: .regions) ?? [:]
        company = try c.decodeIfPresent([String: String].self, forKey: .company) ?? [:]
    }
}
