import Foundation
import GlossModel

/// Small JSON helpers for string arrays stored in text columns.
enum JSONText {
    static func strings(_ values: [String]) -> String {
        if values.isEmpty { return "[]" }
        var out = "["
        for (i, v) in values.enumerated() {
            if i > 0 { out += "," }
            out += quote(v)
        }
        return out + "]"
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let h = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func decodeStrings(_ text: String) -> [String] {
        var text = text
        return text.withUTF8 { decodeStrings($0) }
    }

    static func decodeStrings(_ bytes: UnsafeBufferPointer<UInt8>) -> [String] {
        if bytes.isEmpty || (bytes.count == 2 && bytes[0] == UInt8(ascii: "[") && bytes[1] == UInt8(ascii: "]")) { return [] }
        var reader = ChangeReader(Array(bytes))
        return (try? reader.stringArray()) ?? []
    }
}

/// Turns what a user types into a safe FTS5 query: every word or "quoted phrase" is quoted (so
/// FTS5 operators and punctuation in the input cannot cause a syntax error) and all must match;
/// a trailing `*` on a word keeps prefix matching.
public enum FTSQuery {
    public static func build(_ input: String) -> String {
        var terms: [String] = []
        var current = ""
        var inQuotes = false
        func flush() {
            let t = current.trimmingCharacters(in: .whitespaces)
            current = ""
            guard !t.isEmpty else { return }
            let prefix = t.hasSuffix("*") && t.count > 1
            let word = prefix ? String(t.dropLast()) : t
            // keep only what the tokenizer would index: letters and digits
            let cleaned = word.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? Character($0) : " " }
            let body = String(cleaned).split(separator: " ").joined(separator: " ")
            guard !body.isEmpty else { return }
            terms.append("\"" + body.replacingOccurrences(of: "\"", with: "\"\"") + "\"" + (prefix ? "*" : ""))
        }
        for ch in input {
            if ch == "\"" {
                flush()
                inQuotes.toggle()
            } else if ch.isWhitespace && !inQuotes {
                flush()
            } else {
                current.append(ch)
            }
        }
        flush()
        return terms.joined(separator: " ")
    }
}
