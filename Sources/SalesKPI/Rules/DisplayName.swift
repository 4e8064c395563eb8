/// A region or rep id as it appears in alert texts and on the live board: producer data shown to
/// people, never markup. Ids cannot hold control characters (the decoder refuses them), but a
/// state restored from before that rule could; and chat tools read `@all`, `<!channel>`, `<@U1>`
/// or `<at user_id="all">` in a message as a mention of everyone.
package enum DisplayName {
    package static func of(_ id: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in id.unicodeScalars {
            switch scalar {
            // A zero-width space after `@` keeps the text and breaks the mention.
            case "@":
                out.append(scalar)
                out.append("\u{200B}")
            // Angle brackets open Slack's and Feishu's markup: shown as look-alikes.
            case "<": out.append("‹")
            case ">": out.append("›")
            default:
                switch scalar.properties.generalCategory {
                case .control, .format, .lineSeparator, .paragraphSeparator: continue
                default: out.append(scalar)
                }
            }
        }
        return String(out)
    }
}
