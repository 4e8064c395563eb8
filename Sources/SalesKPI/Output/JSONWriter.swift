/// A minimal JSON text builder: output records are flat and known, so no encoder machinery.
package struct JSONWriter {
    package private(set) var text = ""
    private var needsComma = [false]

    package init() { text.reserveCapacity(1024) }

    private mutating func separator() {
        if needsComma[needsComma.count - 1] { text += "," }
        needsComma[needsComma.count - 1] = true
    }

    private mutating func key(_ k: String) {
        separator()
        JSONWriter.quote(k, into: &text)
        text += ":"
    }

    package mutating func beginObject(_ k: String? = nil) {
        if let k { key(k) } else if needsComma.count > 1 { separator() }
        text += "{"
        needsComma.append(false)
    }

    package mutating func endObject() {
        needsComma.removeLast()
        text += "}"
    }

    package mutating func beginArray(_ k: String) {
        key(k)
        text += "["
        needsComma.append(false)
    }

    package mutating func endArray() {
        needsComma.removeLast()
        text += "]"
    }

    package mutating func rawElement(_ json: String) {
        separator()
        text += json
    }

    package mutating func field(_ k: String, _ v: String?) {
        key(k)
        if let v { JSONWriter.quote(v, into: &text) } else { text += "null" }
    }

    package mutating func field(_ k: String, _ v: Int64) {
        key(k)
        text += String(v)
    }

    package mutating func field(_ k: String, _ v: Int) { field(k, Int64(v)) }

    package mutating func field(_ k: String, _ v: Bool) {
        key(k)
        text += v ? "true" : "false"
    }

    package mutating func field(_ k: String, _ v: Double?) {
        key(k)
        if let v, v.isFinite { text += String(v) } else { text += "null" }
    }

    /// Money as an exact decimal string.
    package mutating func field(_ k: String, _ v: Money?) { field(k, v?.description) }

    package static func quote(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }
}
