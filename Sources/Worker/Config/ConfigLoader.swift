import Foundation
import Yams

/// Reads `worker.yaml`, `targets.yaml` and `markets.yaml` from a folder and validates them.
package enum ConfigLoader {
    /// A missing file means "all defaults"; `SALESPULSE_…` variables override `worker.yaml`;
    /// anything unreadable or invalid is a `ConfigError`.
    package static func load(
        directory: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> ResolvedConfig {
        var problems: [String] = []
        let worker: WorkerConfig = read(
            directory, "worker.yaml", .worker, default: WorkerConfig(), &problems, environment: environment)
        let targets: TargetsFile = read(directory, "targets.yaml", .targets, default: TargetsFile(), &problems)
        let markets: MarketsFile = read(directory, "markets.yaml", .markets, default: MarketsFile(), &problems)
        // A bad value kept its default above, so the values around it are still checked here.
        var resolved: ResolvedConfig?
        do throws(ConfigError) {
            resolved = try ResolvedConfig.resolve(worker, targets, markets)
        } catch {
            problems += error.problems
        }
        guard problems.isEmpty, let resolved else { throw ConfigError(problems) }
        return resolved
    }

    private static func read<T: Decodable>(
        _ directory: String, _ file: String, _ schema: ConfigSchema, default: T, _ problems: inout [String],
        environment: [String: String]? = nil
    ) -> T {
        let path = (directory as NSString).appendingPathComponent(file)
        var text = ""
        if FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path), let t = String(data: data, encoding: .utf8)
            else {
                problems.append("\(file): cannot be read as UTF-8 text (\(path))")
                return `default`
            }
            text = t
        }
        return decode(text, file, schema, &problems, environment: environment) ?? `default`
    }

    /// Parses, applies environment overrides (worker.yaml only), checks keys, then decodes.
    private static func decode<T: Decodable>(
        _ text: String, _ file: String, _ schema: ConfigSchema, _ problems: inout [String],
        environment: [String: String]? = nil
    ) -> T? {
        var node: Node
        do {
            node = try Yams.compose(yaml: text) ?? Node.mapping(Node.Mapping([]))
        } catch {
            problems.append("\(file): not valid YAML: \(error)")
            return nil
        }
        if let environment { EnvironmentOverrides.apply(to: &node, environment: environment) }
        var misfits: [String] = []
        schema.check(node, path: "", file: file, into: &misfits)
        problems += misfits
        // Every bad value is noted and decoding goes on, so all of them are reported at once,
        // misspelt keys too; a value of the wrong shape is reported once, by the schema.
        var found: [String] = []
        let noted = DecodingProblems()
        var value: T?
        do {
            value = try YAMLDecoder().decode(T.self, from: node, userInfo: [.decodingProblems: noted])
            found = noted.errors.map { describe($0, file) }
        } catch let error as DecodingError {
            found = noted.errors.map { describe($0, file) } + [describe(error, file)]
        } catch {
            found = ["\(file): \(error)"]
        }
        let misfitPaths = misfits.map(Self.path)
        problems += found.filter { problem in
            let at = Self.path(problem)
            return !misfitPaths.contains {
                $0 == "(top level)" || at == $0 || at.hasPrefix($0 + ".") || at.hasPrefix($0 + "[")
            }
        }
        return value
    }

    /// The key path a problem line names (`file: path: what`).
    private static func path(_ problem: String) -> String {
        let parts = problem.split(separator: ": ", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count > 1 ? String(parts[1]) : ""
    }

    private static func describe(_ error: DecodingError, _ file: String) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined().drop { $0 == "." }.description
        }
        switch error {
        case .typeMismatch(let type, let c):
            return "\(file): \(path(c.codingPath)): expected \(typeName(type))"
        case .valueNotFound(let type, let c):
            return "\(file): \(path(c.codingPath)): missing \(typeName(type))"
        case .keyNotFound(let key, let c):
            return "\(file): \(path(c.codingPath + [key])): required key is missing"
        case .dataCorrupted(let c):
            return "\(file): \(path(c.codingPath)): \(c.debugDescription)"
        @unknown default:
            return "\(file): \(error)"
        }
    }

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
