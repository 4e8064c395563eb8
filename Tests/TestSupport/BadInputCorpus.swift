import Foundation

/// The committed corpus of bad inputs (docs/events.md): one file per case in Tests/Corpus/bad, named
/// `<reason>--<what>`, holding the exact message bytes. It also seeds the decoder fuzzer.
package enum BadInputCorpus {
    package struct Entry: Sendable {
        package var name: String
        package var reason: String
        package var bytes: [UInt8]
    }

    package static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Corpus/bad")

    package static func load() throws -> [Entry] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted().map { name in
            let bytes = try Data(contentsOf: directory.appendingPathComponent(name))
            return Entry(name: name, reason: String(name.prefix { $0 != "-" }), bytes: Array(bytes))
        }
    }
}
