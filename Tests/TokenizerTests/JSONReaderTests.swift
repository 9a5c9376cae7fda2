// The tokenizer's JSON reader against Foundation's JSONSerialization (the same values for every committed
// tokenizer.json and hand-written edge cases) and its errors on malformed documents.
@testable import EcomTokenizer
import EcomTestSupport
import Foundation
import Testing

@Suite struct JSONReaderTests {
    /// Deep equality of two decoded JSON values, numbers compared by value.
    static func same(_ a: Any, _ b: Any) -> Bool {
        if let large = a as? JSONReader.LargeObject {
            #expect(large.members.count > JSONReader.largeObjectMembers)
            var dict: [String: Any] = [:]
            for (k, v) in large.members { dict[k] = v }
            return same(dict, b)
        }
        switch (a, b) {
        case let (x as [String: Any], y as [String: Any]):
            return x.count == y.count && x.allSatisfy { k, v in y[k].map { same(v, $0) } ?? false }
        case let (x as [Any], y as [Any]):
            return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case let (x as String, y as String): return x == y
        case (is NSNull, is NSNull): return true
        default:
            if let x = jsonBool(a), type(of: a) == Bool.self, let y = jsonBool(b) { return x == y }
            guard let x = (a as? Double) ?? (a as? Int).map(Double.init), let y = (b as? NSNumber)?.doubleValue else { return false }
            return x == y
        }
    }

    @Test(arguments: ["tokenizer/gpt2_small.json", "tokenizer/bloom_small.json", "tokenizer/smollm2_tokenizer.json", "tokenizer/cases.json"])
    func readsWhatJSONSerializationReads(_ name: String) throws {
        let data = try Data(contentsOf: TestPaths.fixture(name))
        #expect(Self.same(try JSONReader.parse(data), try JSONSerialization.jsonObject(with: data)))
    }

    @Test func edgeCases() throws {
        let text = #"{"a": "\u00e9\ud83d\ude00\n\t\"\\\/", "b": [0, -1, 1.5, -2e3, 1E+2, 12345678901234], "c": true, "d": false, "e": null, "f": {}, "g": [], "h": "日本"}"#
        let ours = try JSONReader.parse(Data(text.utf8)) as! [String: Any]
        #expect(ours["a"] as? String == "é😀\n\t\"\\/")
        #expect(ours["h"] as? String == "日本")
        #expect(Self.same(ours, try JSONSerialization.jsonObject(with: Data(text.utf8))))
        #expect(type(of: (ours["b"] as! [Any])[0]) == Int.self && type(of: (ours["b"] as! [Any])[2]) == Double.self)
        #expect(jsonBool(ours["c"]) == true && jsonBool(ours["d"]) == false && jsonBool((ours["b"] as! [Any])[2]) == nil)
    }

    @Test(arguments: [
        ("{\"a\": 1", "unterminated object"), ("[1, 2", "unterminated array"), ("{\"a\" 1}", "expected ':'"),
        ("\"abc", "unterminated string"), ("{\"a\": tru}", "invalid literal"), ("[01]", "leading zero"),
        ("[1.]", "expected digits after '.'"), ("\"\\ud800\"", "unpaired surrogate"), ("\"\\q\"", "invalid escape"),
        ("{} x", "unexpected text"), ("", "unexpected end"), ("\"a\u{01}b\"", "control character"),
    ])
    func malformedDocumentsAreErrorsWithAnOffset(_ text: String, _ reason: String) {
        do {
            _ = try JSONReader.parse(Data(text.utf8))
            Issue.record("\(text) parsed")
        } catch let e as JSONReader.Failure {
            #expect(e.description.contains(reason) && e.description.contains("at byte"), "\(e)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func invalidUTF8IsAnError() {
        var bytes = Array("[\"ab".utf8)
        bytes += [0xFF, 0x22, 0x5D]
        #expect(throws: JSONReader.Failure.self) { _ = try JSONReader.parse(Data(bytes)) }
    }
}
