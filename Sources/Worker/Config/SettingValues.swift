import Logging
import SalesKPI

/// A setting written as one text value and read once into a typed value; a text it cannot read
/// is a decoding error saying what it should be.
package protocol TextSetting: Codable, Sendable {
    init?(_ text: String)
    /// The text as written: what is encoded back (`check-config`) and shown in messages.
    var text: String { get }
    /// What a valid text is, completing "'x' is not …".
    static var expected: String { get }
}

extension TextSetting {
    package init(from decoder: any Decoder) throws { try self.init(textFrom: decoder) }

    package func encode(to encoder: any Encoder) throws { try encodeText(to: encoder) }

    init(textFrom decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let setting = Self(text) else { throw SettingError.invalid(decoder, "'\(text)' is not \(Self.expected)") }
        self = setting
    }

    func encodeText(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(text)
    }

    /// For literals in code (the defaults, tests), which are known to be valid.
    init(literal text: String) {
        guard let setting = Self(text) else { preconditionFailure("'\(text)' is not \(Self.expected)") }
        self = setting
    }
}

/// A duration setting such as 500ms, 30s, 15m, 1h or 7d, read once into milliseconds.
package struct DurationSetting: TextSetting, Equatable, ExpressibleByStringLiteral, CustomStringConvertible {
    package let millis: Int64
    package let text: String
    package static let expected = "a duration such as 500ms, 30s, 15m, 1h or 7d"

    package init?(_ text: String) {
        guard let ms = WindowSpec.parseDuration(text) else { return nil }
        millis = ms
        self.text = text
    }

    package init(stringLiteral text: String) { self.init(literal: text) }

    package var description: String { text }
}

/// A setting with a fixed set of values; a value outside them is an error naming them all.
package protocol SettingChoice: TextSetting, RawRepresentable<String>, CaseIterable {}

extension SettingChoice {
    // Restated here: for an enum the compiler would otherwise synthesize its case-keyed coding.
    package init(from decoder: any Decoder) throws { try self.init(textFrom: decoder) }

    package func encode(to encoder: any Encoder) throws { try encodeText(to: encoder) }

    package init?(_ text: String) { self.init(rawValue: text) }
    package var text: String { rawValue }
    package static var expected: String { "one of " + allCases.map(\.rawValue).joined(separator: ", ") }
}

package enum ProcessingGuarantee: String, SettingChoice {
    /// Outputs, changelog and input offsets in one Kafka transaction per commit.
    case exactlyOnce = "exactly_once"
    /// Outputs delivered first, offsets committed after: a crash can repeat outputs.
    case atLeastOnce = "at_least_once"
}

package enum LogFormat: String, SettingChoice {
    /// One JSON object per line, for log pipelines.
    case json
    case text
}

package enum LogLevelSetting: String, SettingChoice {
    case trace, debug, info, notice, warning, error, critical

    package var level: Logger.Level {
        switch self {
        case .trace: .trace
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        case .critical: .critical
        }
    }
}

/// `alerts.locale`: the language of alert messages.
package enum LocaleSetting: String, SettingChoice {
    case zhCN = "zh-CN"
    case en

    package var locale: AlertLocale {
        switch self {
        case .zhCN: .zhCN
        case .en: .en
        }
    }
}

/// `time.revision_horizon`: `auto` (the longest window plus the allowed lateness), `off`, or a
/// duration (docs/guarantees.md#revised-finals).
package enum RevisionHorizonSetting: TextSetting, Equatable, ExpressibleByStringLiteral {
    case auto
    case off
    case duration(DurationSetting)

    package static let expected = "auto, off or a duration such as 7d"

    package init?(_ text: String) {
        switch text {
        case "auto": self = .auto
        case "off": self = .off
        default:
            guard let d = DurationSetting(text) else { return nil }
            self = .duration(d)
        }
    }

    package init(stringLiteral text: String) { self.init(literal: text) }

    package var text: String {
        switch self {
        case .auto: "auto"
        case .off: "off"
        case .duration(let d): d.text
        }
    }

    /// What the domain takes: nil for auto, 0 for off.
    var millis: Int64? {
        switch self {
        case .auto: nil
        case .off: 0
        case .duration(let d): d.millis
        }
    }
}

enum SettingError {
    static func invalid(_ decoder: any Decoder, _ text: String) -> DecodingError {
        .dataCorrupted(DecodingError.Context(codingPath: decoder.codingPath, debugDescription: text))
    }
}
