/// Every problem found in the configuration, each naming its file and key.
package struct ConfigError: Error, Sendable, CustomStringConvertible {
    package var problems: [String]

    package init(_ problems: [String]) { self.problems = problems }

    package var description: String {
        "invalid configuration:\n" + problems.map { "  - " + $0 }.joined(separator: "\n")
    }
}
