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

    @Test func batchEqualsSequential() throws {
        let tok = try ReferenceFixture.load("bloom_small")
        let cases = (ReferenceFixture.tokenizers["bloom_small"] as! [String: Any])["cases"] as! [[String: Any]]
        let texts = cases.map { $0["text"] as! String }
        let batch = tok.encodeBatch(texts)
        #expect(batch == texts.map { tok.encode($0) })
        #expect(batch == tok.encodeBatch(texts, threads: 1))
    }
}
