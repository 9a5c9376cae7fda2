// The JSON Lines conversions behind `ecom-tokenizer encode|decode`: {"text"} -> {"ids"} and {"ids"} -> {"text"}.
import Foundation

extension Tokenizer {
    /// Encodes JSON Lines `{"text": str}` into `{"ids": [int]}` lines (same order; blank lines are skipped and
    /// give no output). A bad line throws `TokenizerError.badLine` with its number. Encoding uses all cores.
    public func encodeJSONLines(_ input: Data, source: String, addSpecialTokens: Bool) throws -> Data {
        var texts: [String] = []
        for (n, line) in lines(input) {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw TokenizerError.badLine(source: source, line: n, reason: "not a JSON object")
            }
            guard let text = obj["text"] as? String else {
                throw TokenizerError.badLine(source: source, line: n, reason: "missing string field \"text\"")
            }
            texts.append(text)
        }
        var out = ""
        for ids in encodeBatch(texts, addSpecialTokens: addSpecialTokens) {
            out += "{\"ids\":[" + ids.map(String.init).joined(separator: ",") + "]}\n"
        }
        return Data(out.utf8)
    }

    /// Decodes JSON Lines `{"ids": [int]}` into `{"text": str}` lines; an id outside the vocabulary is an error.
    public func decodeJSONLines(_ input: Data, source: String, skipSpecialTokens: Bool) throws -> Data {
        var out = ""
        for (n, line) in lines(input) {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw TokenizerError.badLine(source: source, line: n, reason: "not a JSON object")
            }
            guard let raw = obj["ids"] as? [Any] else {
                throw TokenizerError.badLine(source: source, line: n, reason: "missing array field \"ids\"")
            }
            var ids: [Int] = []
            for x in raw {
                guard let num = x as? NSNumber, let id = Int(exactly: num.doubleValue) else {
                    throw TokenizerError.badLine(source: source, line: n, reason: "ids must be integers")
                }
                guard token(forId: id) != nil else {
                    throw TokenizerError.badLine(source: source, line: n, reason: "id \(id) out of range (vocabulary size \(vocabularySize))")
                }
                ids.append(id)
            }
            out += "{\"text\":" + jsonQuoted(decode(ids, skipSpecialTokens: skipSpecialTokens)) + "}\n"
        }
        return Data(out.utf8)
    }

    /// Non-blank lines with their 1-based numbers.
    private func lines(_ data: Data) -> [(Int, Substring.UTF8View)] {
        let s = String(decoding: data, as: UTF8.self)
        var result: [(Int, Substring.UTF8View)] = []
        for (i, line) in s.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy({ $0 == " " || $0 == "\r" || $0 == "\t" }) {
            result.append((i + 1, line.utf8))
        }
        return result
    }
}
