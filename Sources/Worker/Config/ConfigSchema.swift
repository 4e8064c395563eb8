import Yams

/// The shape of each config file, so a misspelt key is reported instead of silently ignored.
indirect enum ConfigSchema: Sendable {
    case object([String: ConfigSchema])
    /// A mapping with free keys (fx rates, librdkafka properties).
    case map(ConfigSchema)
    case list(ConfigSchema)
    case scalar

    static let worker = WorkerConfig.schema

    static let targets = ConfigSchema.object([
        "targets": .list(
            .object(["scope": .scalar, "region": .scalar, "rep": .scalar, "period": .scalar, "amount": .scalar]))
    ])

    static let markets = ConfigSchema.object(["regions": .map(.map(.scalar)), "company": .map(.scalar)])

    /// Appends a problem for every key or shape that does not fit.
    func check(_ node: Node?, path: String, into problems: inout [ConfigProblem]) {
        guard let node else { return }
        switch self {
        case .scalar:
            if node.scalar == nil { problems.append(ConfigProblem(path, "expected a single value")) }
        case .object(let fields):
            if case .scalar(let s) = node, s.string.isEmpty || s.string == "~" || s.string == "null" { return }
            guard let mapping = node.mapping else {
                problems.append(ConfigProblem(path, "expected a mapping of keys"))
                return
            }
            for (key, value) in mapping {
                let name = key.string ?? "?"
                let sub = path.isEmpty ? name : path + "." + name
                if let schema = fields[name] {
                    schema.check(value, path: sub, into: &problems)
                } else {
                    problems.append(
                        ConfigProblem(
                            sub, "unknown key (expected one of \(fields.keys.sorted().joined(separator: ", ")))"))
                }
            }
        case .map(let valueSchema):
            if case .scalar(let s) = node, s.string.isEmpty || s.string == "null" { return }
            guard let mapping = node.mapping else {
                problems.append(ConfigProblem(path, "expected a mapping"))
                return
            }
            for (key, value) in mapping {
                valueSchema.check(value, path: path + "." + (key.string ?? "?"), into: &problems)
            }
        case .list(let element):
            guard let sequence = node.sequence else {
                problems.append(ConfigProblem(path, "expected a list"))
                return
            }
            for (k, value) in sequence.enumerated() {
                element.check(value, path: "\(path)[\(k)]", into: &problems)
            }
        }
    }
}
