// Parity with HF tokenizers on the golden fixtures of scripts/reference/gen_tokenizer.py: ids (with and without
// special tokens), byte offsets, decodes, random-id decodes and round trips, for every tokenizer in cases.json.
import EcomTestSupport
import EcomTokenizer
import Foundation
import Testing

/// The cases.json fixture and the tokenizers it names.
enum ReferenceFixture {
    nonisolated(unsafe) static let root: [String: Any] = {
        let data = try! Data(contentsOf: TestPaths.fixture("tokenizer/cases.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()
    static var tokenizers: [String: Any] { root["tokenizers"] as! [String: Any] }

    static func baseJSON(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: TestPaths.fixture("tokenizer/\(name).json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// The tokenizer a fixture entry was made with: a committed file, a committed file with a patch, or the shared BLOOM file.
    static func load(_ name: String) throws -> Tokenizer {
        if name == "shared_bloom" {
            return try Tokenizer(contentsOf: SharedData.require("bloom/tokenizer.json"))
        }
        let entry = tokenizers[name] as! [String: Any]
        if let base = entry["base"] as? String, let patch = entry["patch"] as? [String: Any] {
            var json = try baseJSON(base)
            for (k, v) in patch { json[k] = v }
            return try Tokenizer(json: JSONSerialization.data(withJSONObject: json))
        }
        return try Tokenizer(contentsOf: TestPaths.fixture("tokenizer/\(name).json"))
    }

    static var localNames: [String] { tokenizers.keys.filter { $0 != "shared_bloom" }.sorted() }
}

/// Checks every case of one fixture entry; returns the number of mismatches (each is also recorded as an issue).
func checkReference(_ name: String) throws -> Int {
    let tok = try ReferenceFixture.load(name)
    let entry = ReferenceFixture.tokenizers[name] as! [String: Any]
    var failures = 0
    func fail(_ message: String) {
        failures += 1
        if failures <= 10 { Issue.record("\(name): \(message)") }
    }
    #expect(tok.vocabularySize == entry["vocab_size"] as! Int, "\(name): vocabulary size")
    for case let c as [String: Any] in entry["cases"] as! [Any] {
        let text = c["text"] as! String
        let ids = c["ids"] as! [Int]
        let got = tok.encodeWithOffsets(text)
        if got.ids != ids { fail("ids of \(text.debugDescription): got \(got.ids), HF \(ids)"); continue }
        if tok.encode(text) != ids { fail("encode differs from encodeWithOffsets for \(text.debugDescription)") }
        let offsets = (c["offsets"] as! [[Int]]).map { $0[0]..<$0[1] }
        // Through a normalizer that changes the text composed characters get wider offsets than HF's (documented).
        let normalizes = (entry["patch"] as? [String: Any])?["normalizer"].map { !($0 is NSNull) } ?? false
        if got.offsets != offsets && !(normalizes && Array(text.precomposedStringWithCompatibilityMapping.unicodeScalars) != Array(text.unicodeScalars)) { fail("offsets of \(text.debugDescription): got \(got.offsets), HF \(offsets)") }
        let special = c["ids_special"] as! [Int]
        if tok.encode(text, addSpecialTokens: true) != special { fail("ids with special tokens of \(text.debugDescription)") }
        if tok.decode(ids) != c["decoded"] as! String { fail("decode of \(text.debugDescription): \(tok.decode(ids).debugDescription)") }
        if tok.decode(ids, skipSpecialTokens: true) != c["decoded_skip"] as! String {
            fail("decode skipping specials of \(text.debugDescription): \(tok.decode(ids, skipSpecialTokens: true).debugDescription)")
        }
    }
    for case let r as [String: Any] in entry["random_decodes"] as! [Any] {
        let ids = r["ids"] as! [Int]
        if tok.decode(ids) != r["decoded"] as! String { fail("decode of random ids \(ids)") }
        if tok.decode(ids, skipSpecialTokens: true) != r["decoded_skip"] as! String { fail("decode (skip) of random ids \(ids)") }
    }
    return failures
}

@Suite struct ReferenceFixtureTests {
    @Test(arguments: ReferenceFixture.localNames)
    func matchesHF(_ name: String) throws {
        #expect(try checkReference(name) == 0)
    }

    @Test(.enabled(if: SharedData.shouldRun, "needs ../shared/data"))
    func sharedBloomMatchesHF() throws {
        #expect(try checkReference("shared_bloom") == 0)
    }

    /// decode(encode(x)) == x for every fixture text without special-token strings, on the BLOOM- and GPT-2-style files.
    @Test(arguments: ["bloom_small", "gpt2_small"])
    func roundTrip(_ name: String) throws {
        let tok = try ReferenceFixture.load(name)
        let entry = ReferenceFixture.tokenizers[name] as! [String: Any]
        for case let c as [String: Any] in entry["cases"] as! [Any] {
            let text = c["text"] as! String
            #expect(tok.decode(tok.encode(text)) == text)
        }
    }
}
