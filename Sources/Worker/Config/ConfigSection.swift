/// One section of `worker.yaml`: each setting is its stored property, with its default, and one
/// `Setting` line naming its key. Decoding, encoding and the key check (`ConfigSchema`) all come
/// from that list, so a setting is never written in a third place.
package protocol ConfigSection: Codable {
    init()
    static var settings: [Setting<Self>] { get }
}

/// A setting of a `ConfigSection`: its key in the file, its shape, and the property it fills.
package struct Setting<Section> {
    package let key: String
    let schema: ConfigSchema
    fileprivate let read: (KeyedDecodingContainer<SettingKey>, inout Section) throws -> Void
    fileprivate let write: (inout KeyedEncodingContainer<SettingKey>, Section) throws -> Void

    /// A single value, or a list or mapping when `schema` says so.
    init<Value: Codable>(_ key: String, _ property: WritableKeyPath<Section, Value>, schema: ConfigSchema = .scalar) {
        self.key = key
        self.schema = schema
        read = { container, section in
            if let value = try container.decodeIfPresent(Value.self, forKey: SettingKey(key)) {
                section[keyPath: property] = value
            }
        }
        write = { container, section in try container.encode(section[keyPath: property], forKey: SettingKey(key)) }
    }

    /// A nested section.
    init<Nested: ConfigSection>(_ key: String, _ property: WritableKeyPath<Section, Nested>) {
        self.init(key, property, schema: Nested.schema)
    }
}

extension ConfigSection {
    /// An absent key keeps its default; a bad value is noted in the decoder's `DecodingProblems`
    /// (or thrown, without one) and its default stands, so one does not hide the others.
    package init(from decoder: any Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: SettingKey.self)
        let problems = decoder.userInfo[.decodingProblems] as? DecodingProblems
        for setting in Self.settings {
            do {
                try setting.read(container, &self)
            } catch let error as DecodingError {
                guard let problems else { throw error }
                problems.errors.append(error)
            }
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: SettingKey.self)
        for setting in Self.settings { try setting.write(&container, self) }
    }

    /// The keys this section accepts, and their shapes.
    static var schema: ConfigSchema {
        .object(Dictionary(uniqueKeysWithValues: settings.map { ($0.key, $0.schema) }))
    }
}

/// A key of a config section, by its name in the file.
struct SettingKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Where decoding a config file notes each bad value, so one does not hide the others: the
/// value's default stands and decoding goes on (`ConfigLoader` reports them all, each with its key).
final class DecodingProblems {
    var errors: [DecodingError] = []
}

extension CodingUserInfoKey {
    static let decodingProblems = CodingUserInfoKey(rawValue: "salespulse.decodingProblems")!
}
