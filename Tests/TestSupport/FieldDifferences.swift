/// The fields of an output that differ from the reference, as "name actual != expected" lines:
/// one place for how the reference checks compare and word their findings.
package struct FieldDifferences {
    package private(set) var lines: [String] = []
    /// Put before each field name ("previous.", an alert id).
    private let prefix: String

    package init(prefix: String = "") { self.prefix = prefix }

    package mutating func note(_ line: String) { lines.append(line) }

    /// Exactly equal (both nil counts as equal).
    package mutating func check<T: Equatable>(_ name: String, _ actual: T?, _ expected: T?) {
        if actual != expected { record(name, actual, expected) }
    }

    /// Equal within `relative` of the expected value (both nil counts as equal).
    package mutating func close(_ name: String, _ actual: Double?, _ expected: Double?, relative: Double = 1e-9) {
        switch (actual, expected) {
        case (nil, nil): return
        case (let a?, let e?) where abs(a - e) <= relative * max(abs(e), 1e-9): return
        default: record(name, actual, expected)
        }
    }

    private mutating func record<T>(_ name: String, _ actual: T?, _ expected: T?) {
        lines.append("\(prefix)\(name) \(String(describing: actual)) != \(String(describing: expected))")
    }
}
