// Errors that name the field for malformed or unsupported tokenizer.json, and batch encoding equal to one-by-one.
import EcomTestSupport
import EcomTokenizer
import Foundation
import Testing

@Suite struct LoadingAndBatchTests {
    func patched(_ change: (inout [String: Any]) -> Void) throws -> Data {
        var json = try ReferenceFixture.baseJSON("bloom_small")
        change(&json)
        return try JSONSerialization.data(withJSONObject: json)
    }

    @Test func unsupportedTypesNameTheField() throws {
        let data = try patched { $0["normalizer"] = ["type": "Lowercase"] }
        #expect(throws: TokenizerError.unsupported(field: "normalizer.type", value: "Lowercase")) { try Tokenizer(json: data) }
        let regex = try patched {
            $0["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": "\\d+"], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "use_regex": false]]]
        }
        #expect { try Tokenizer(json: regex) } throws: { "\($0)".contains("pre_tokenizer.pretokenizers[0].pattern.Regex") }
        // A tokenizer.json of another model type is reported by its model type, whatever its other stages hold.
        let wordPiece = try patched {
            $0["model"] = ["type": "WordPiece", "vocab": [:] as [String: Int]]
            $0["pre_tokenizer"] = NSNull()  // no ByteLevel stage either: the model type must still be what is named
        }
        #expect(throws: TokenizerError.unsupported(field: "model.type", value: "WordPiece")) { try Tokenizer(json: wordPiece) }
    }

    @Test func malformedFilesNameTheField() throws {
        let merges = try patched { json in
            var model = json["model"] as! [String: Any]
            model["merges"] = ["a b c"]
            json["model"] = model
        }
        #expect { try Tokenizer(json: merges) } throws: { "\($0)".contains("model.merges[0]") }
        #expect { try Tokenizer(json: Data("{not json".utf8)) } throws: { "\($0)".contains("not JSON") }
    }

    /// Ids far past the vocabulary sized a 16 GB array (found by scripts/fuzz.sh tokenizer: an id near 2^31 in
    /// `model.vocab`); the same through `added_tokens`, and a negative added id that indexed out of bounds.
    @Test func idsFarPastTheVocabularyAreErrors() throws {
        let found = try Data(contentsOf: TestPaths.fixture("fuzz/tokenizer/vocab-id-2e31.json"))
        #expect { try Tokenizer(json: found) } throws: { "\($0)".contains("model.vocab") && "\($0)".contains("nearly contiguous") }
        let added = try patched { json in
            json["added_tokens"] = [["id": 2_000_000_000, "content": "<far>", "special": true]]
        }
        #expect { try Tokenizer(json: added) } throws: { "\($0)".contains("added_tokens") && "\($0)".contains("nearly contiguous") }
        let negative = try patched { json in
            json["added_tokens"] = [["id": -3, "content": "<neg>", "special": true]]
        }
        #expect { try Tokenizer(json: negative) } throws: { "\($0)".contains("added_tokens[0].id") }
        // A sparse but plausible vocabulary (a few holes) still loads, as in HF.
        let holes = try patched { json in
            json["added_tokens"] = [["id": 250_900, "content": "<late>", "special": true]]
        }
        #expect(try Tokenizer(json: holes).vocabularySize == 250_901)
    }

    @Test func batchEqualsSequential() throws {
        let tok = try ReferenceFixture.load("bloom_small")
        let cases = (ReferenceFixture.tokenizers["bloom_small"] as! [String: Any])["cases"] as! [[String: Any]]
        let texts = cases.map { $0["text"] as! String }
        let batch = tok.encodeBatch(texts)
        #expect(batch == texts.map { tok.encode($0) })
        #expect(batch == tok.encodeBatch(texts, threads: 1))
    }
}
