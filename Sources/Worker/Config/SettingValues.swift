import Logging
import SalesKPI

/// A duration setting such as 500ms, 30s, 15m, 1h or 7d, read once into milliseconds.
package struct DurationSetting: Sendable, Equatable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
    package let millis: Int64
    /// The text as written, for messages.
    package let description: String

    package init?(_ text: String) {
        guard let ms = WindowSpec.parseDuration(text) else { return nil }
        millis = ms
        description = text
    }

    /// Literals in code (the defaults, tests) are known to be durations.
    package init(stringLiteral text: String) {
        guard let setting = Self(text) else { preconditionFailure("'\(text)' is not a duration") }
        self = setting
    }

    package init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let setting = Self(text) else {
            throw SettingError.invalid(decoder, "'\(text)' is not a duration such as 500ms, 30s, 15m, 1h or 7d")
        }
        self = setting
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// A setting with a fixed set of values; a value outside them is an error naming them all.
package protocol SettingChoice: RawRepresentable<String>, CaseIterable, Codable, Sendable {}

extension SettingChoice {
    package init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(rawValue: text) else {
            let names = Self.allCases.map(\.rawValue).joined(separator: ", ")
            throw SettingError.invalid(decoder, "'\(text)' is not one of \(names)")
        }
        self = value
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
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
package enum RevisionHorizonSetting: Sendable, Equatable, Codable, ExpressibleByStringLiteral {
    case auto
    case off
    case duration(DurationSetting)

    init?(_ text: String) {
        switch text {
        case "auto": self = .auto
        case "off": self = .off
        default:
            guard let d = DurationSetting(text) else { return nil }
            self = .duration(d)
        }
    }

    package init(stringLiteral text: String) {
        guard let setting = Self(text) else { preconditionFailure("'\(text)' is not a revision horizon") }
        self = setting
    }

    package init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let setting = Self(text) else {
            throw SettingError.invalid(decoder, "'\(text)' is not auto, off or a duration such as 7d")
        }
        self = setting
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .auto: try c.encode("auto")
        case .off: try c.encode("off")
        case .duration(let d): try c.encode(d.description)
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
