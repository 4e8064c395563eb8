/// Sales targets per scope and target period kind (month, quarter), in the reporting currency.
package struct TargetBook: Sendable, Equatable {
    package struct Key: Hashable, Sendable {
        package var scope: ScopeKey
        package var period: WindowSpec.CalendarUnit
    }

    package private(set) var targets: [Key: Money] = [:]

    package init() {}

    package mutating func set(_ amount: Money, for scope: ScopeKey, period: WindowSpec.CalendarUnit) {
        targets[Key(scope: scope, period: period)] = amount
    }

    package func target(for scope: ScopeKey, period: WindowSpec.CalendarUnit) -> Money? {
        targets[Key(scope: scope, period: period)]
    }

    /// The target periods in use, so shards evaluate only those.
    package var periods: Set<WindowSpec.CalendarUnit> { Set(targets.keys.map(\.period)) }

    package func keys(region: String) -> [Key] {
        targets.keys.filter { $0.scope.kind != .company && $0.scope.region == region }
    }

    package var companyKeys: [Key] { targets.keys.filter { $0.scope.kind == .company } }
}
