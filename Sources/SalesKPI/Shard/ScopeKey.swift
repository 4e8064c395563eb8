/// Who a KPI is about: a rep within a region, a region, or the whole company.
package struct ScopeKey: Hashable, Sendable, Comparable, Codable {
    package enum Kind: String, Sendable, Codable, Comparable {
        case rep, region, company

        package static func < (a: Kind, b: Kind) -> Bool { a.rank < b.rank }
        // By case, not by raw value: a String-backed enum otherwise compares and hashes its name,
        // a third string hash in every scope lookup (two per event).
        package static func == (a: Kind, b: Kind) -> Bool { a.rank == b.rank }
        package func hash(into hasher: inout Hasher) { hasher.combine(rank) }
        private var rank: Int {
            switch self {
            case .rep: 0
            case .region: 1
            case .company: 2
            }
        }
    }

    package var kind: Kind
    package var region: String
    package var rep: String

    package static let company = ScopeKey(kind: .company, region: "", rep: "")

    package static func region(_ region: String) -> ScopeKey { ScopeKey(kind: .region, region: region, rep: "") }

    package static func rep(_ rep: String, in region: String) -> ScopeKey {
        ScopeKey(kind: .rep, region: region, rep: rep)
    }

    /// The message key and `scope.id`: `company`, `east`, `east/rep-007`.
    package var id: String {
        switch kind {
        case .company: "company"
        case .region: region
        case .rep: region + "/" + rep
        }
    }

    /// `id` as UTF-8 bytes (a message key), built without the intermediate string.
    package var idBytes: [UInt8] {
        switch kind {
        case .company: return Array("company".utf8)
        case .region: return Array(region.utf8)
        case .rep:
            var bytes: [UInt8] = []
            bytes.reserveCapacity(region.utf8.count + 1 + rep.utf8.count)
            bytes.append(contentsOf: region.utf8)
            bytes.append(UInt8(ascii: "/"))
            bytes.append(contentsOf: rep.utf8)
            return bytes
        }
    }

    package static func < (a: ScopeKey, b: ScopeKey) -> Bool { (a.kind, a.region, a.rep) < (b.kind, b.region, b.rep) }
}
