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
        var misfits: [ConfigProblem] = []
        schema.check(node, path: "", into: &misfits)
        // Every bad value is noted and decoding goes on, so all of them are reported at once,
        // misspelt keys too; a value of the wrong shape is reported once, by the schema.
        var found: [ConfigProblem] = []
        let noted = DecodingProblems()
        var value: T?
        do {
            value = try YAMLDecoder().decode(T.self, from: node, userInfo: [.decodingProblems: noted])
            found = noted.errors.map(ConfigProblem.init)
        } catch let error as DecodingError {
            found = noted.errors.map(ConfigProblem.init) + [ConfigProblem(error)]
        } catch {
            found = [ConfigProblem("", "\(error)")]
        }
        let fresh = found.filter { problem in !misfits.contains { problem.isInside($0) } }
        problems += (misfits + fresh).map { $0.line(file) }
        return value
    }

}
