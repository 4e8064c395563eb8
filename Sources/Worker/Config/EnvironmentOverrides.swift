import Foundation
import Yams

/// `SALESPULSE_…` environment variables override `worker.yaml`, key by key, before decoding:
/// `SALESPULSE_KAFKA_BROKERS`, `SALESPULSE_TIME_ALLOWED_LATENESS`, `SALESPULSE_TIME_WINDOWS=day,month`,
/// `SALESPULSE_ALERTS_CAC_SPIKE_FACTOR`, `SALESPULSE_MONEY_FX_USD=7.1`, and librdkafka properties as
/// `SALESPULSE_KAFKA_PROPERTIES_SASL_PASSWORD` (`_` becomes `.`, `__` an underscore), which is how
/// secrets usually reach a container.
package enum EnvironmentOverrides {
    static let prefix = "SALESPULSE_"

    /// The variable name for a config path such as `time.allowed_lateness`.
    package static func variable(for path: String) -> String {
        prefix + path.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// Applies every matching variable to the parsed `worker.yaml`; returns the paths it set.
    @discardableResult
    static func apply(to root: inout Node, environment: [String: String]) -> [String] {
        var applied: [String] = []
        apply(ConfigSchema.worker, to: &root, path: "", environment: environment, applied: &applied)
        return applied
    }

    private static func apply(
        _ schema: ConfigSchema, to node: inout Node, path: String, environment: [String: String],
        applied: inout [String]
    ) {
        switch schema {
        case .scalar:
            if let value = environment[variable(for: path)] {
                node = Node(value)
                applied.append(path)
            }
        case .list:
            if let value = environment[variable(for: path)] {
                let items = value.split(separator: ",").map { Node(String($0).trimmingCharacters(in: .whitespaces)) }
                node = Node.sequence(Node.Sequence(items))
                applied.append(path)
            }
        case .map:
            let keyPrefix = variable(for: path) + "_"
            for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix(keyPrefix) {
                if node.mapping == nil { node = Node.mapping(Node.Mapping([])) }
                let raw = String(name.dropFirst(keyPrefix.count))
                let key = path == "kafka.properties" ? propertyName(raw) : raw
                node[key] = Node(value)
                applied.append(path + "." + key)
            }
        case .object(let fields):
            for (field, fieldSchema) in fields.sorted(by: { $0.key < $1.key }) {
                let sub = path.isEmpty ? field : path + "." + field
                var child = node.mapping == nil ? Node("") : (node[field] ?? Node(""))
                let before = applied.count
                apply(fieldSchema, to: &child, path: sub, environment: environment, applied: &applied)
                if applied.count > before {
                    if node.mapping == nil { node = Node.mapping(Node.Mapping([])) }
                    node[field] = child
                }
            }
        }
    }

    /// `SASL_PASSWORD` → `sasl.password`; `LOG__LEVEL` → `log_level`.
    static func propertyName(_ raw: String) -> String {
        raw.lowercased().replacingOccurrences(of: "__", with: "\u{0}").replacingOccurrences(of: "_", with: ".")
            .replacingOccurrences(of: "\u{0}", with: "_")
    }
}
