// The passages to distil: JSON Lines with a `text` field (`source` and `language` kept when present; other fields
// ignored), as `ecom-data passages` writes them.
import EcomInstruct
import Foundation

/// One passage of the input.
public struct DistillPassage: Sendable, Equatable {
    public var text: String
    /// Where it came from (the input's `source`, or `FILE:LINE`).
    public var source: String
    /// `en` or `zh`: the input's `language`, or guessed (any CJK ideograph or kana: `zh`).
    public var language: String

    public init(text: String, source: String, language: String) { self.text = text; self.source = source; self.language = language }
}

public enum DistillPassages {
    /// Reads passages from JSON Lines. A line that is not a JSON object, or lacks a string `text`, is an error naming
    /// `name:line`; blank lines are skipped; passages whose text is only white space are left out and counted.
    /// - Parameter limit: keep the first `limit` passages (nil: all).
    public static func read(_ data: Data, name: String, limit: Int? = nil) throws -> (passages: [DistillPassage], empty: Int) {
        var out: [DistillPassage] = []
        var empty = 0
        var done = false
        try forEachLine(data) { line, number in
            guard !done else { return }
            let place = "\(name):\(number)"
            let any: Any
            do { any = try JSONSerialization.jsonObject(with: line) } catch {
                throw DistillError("\(place): not valid JSON (\(jsonProblem(error)))")
            }
            guard let obj = any as? [String: Any] else { throw DistillError("\(place): expected a JSON object with a 'text' field") }
            guard let text = obj["text"] as? String else {
                throw DistillError("\(place): \(obj["text"] == nil ? "no 'text' field" : "'text' is not a string")")
            }
            if text.allSatisfy(\.isWhitespace) { empty += 1; return }
            let language = (obj["language"] as? String) ?? guessLanguage(text)
            out.append(DistillPassage(text: text, source: (obj["source"] as? String) ?? place, language: language))
            if let limit, out.count >= limit { done = true }
        }
        return (out, empty)
    }

    /// Reads a passages file.
    public static func read(_ url: URL, limit: Int? = nil) throws -> (passages: [DistillPassage], empty: Int) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DistillError("\(url.path): cannot read the passages (\(error.localizedDescription))")
        }
        return try read(data, name: url.path, limit: limit)
    }

    /// `zh` when the text holds a CJK ideograph or kana, else `en`.
    public static func guessLanguage(_ text: String) -> String {
        for u in text.unicodeScalars {
            switch u.value {
            case 0x3040...0x30FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF: return "zh"
            default: continue
            }
        }
        return "en"
    }

    static func jsonProblem(_ error: any Error) -> String {
        (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
    }
}
