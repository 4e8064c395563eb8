/// One problem in a config file, at a key path (`kafka.topics.deals`, `targets[2].amount`; empty
/// for the whole file). The path stays apart from the text until the problem is reported, so a
/// value the schema already refused can be told apart from the decoder's view of the same value.
struct ConfigProblem: Equatable, Sendable {
    var path: String
    var what: String

    init(_ path: String, _ what: String) {
        self.path = path
        self.what = what
    }

    init(_ error: DecodingError) {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined().drop { $0 == "." }.description
        }
        switch error {
        case .typeMismatch(let type, let c): self.init(path(c.codingPath), "expected \(Self.typeName(type))")
        case .valueNotFound(let type, let c): self.init(path(c.codingPath), "missing \(Self.typeName(type))")
        case .keyNotFound(let key, let c): self.init(path(c.codingPath + [key]), "required key is missing")
        case .dataCorrupted(let c): self.init(path(c.codingPath), c.debugDescription)
        @unknown default: self.init("", "\(error)")
        }
    }

    /// Whether this problem is about `other`'s value or a part of it.
    func isInside(_ other: ConfigProblem) -> Bool {
        other.path.isEmpty || path == other.path || path.hasPrefix(other.path + ".") || path.hasPrefix(other.path + "[")
    }

    /// `file: path: what`, the form `ConfigError` lists.
    func line(_ file: String) -> String { "\(file): \(path.isEmpty ? "(top level)" : path): \(what)" }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is String.Type: "a text value"
        default: "a value of type \(type)"
        }
    }
}
