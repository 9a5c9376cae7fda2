// Byte-level BPE with an unknown token: bytes missing from the vocabulary become `<unk>` (one per byte, or one per run
// with fuse_unk) with the offsets HF `tokenizers` gives (Tests/Fixtures/tokenizer/unk_offsets.json, from
// scripts/reference/gen_tokenizer_unk.py). Such text once made the offsets run past their piece and crash packing.
import EcomTestSupport
import EcomTokenizer
import Foundation
import Testing

@Suite struct UnknownTokenOffsetTests {
    @Test func idsAndOffsetsMatchTokenizers() throws {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: TestPaths.fixture("tokenizer/unk_offsets.json"))) as! [String: Any]
        let specs = root["tokenizers"] as! [String: Any]
        var tokenizers: [String: Tokenizer] = [:]
        for (name, spec) in specs { tokenizers[name] = try Tokenizer(json: JSONSerialization.data(withJSONObject: spec)) }
        let cases = root["cases"] as! [[String: Any]]
        #expect(cases.count == 16)
        for c in cases {
            let name = c["tokenizer"] as! String, text = c["text"] as! String
            let enc = try #require(tokenizers[name]).encodeWithOffsets(text)
            #expect(enc.ids == c["ids"] as! [Int], "\(name) \(text.debugDescription)")
            let want = (c["offsets"] as! [[Int]]).map { $0[0]..<$0[1] }
            #expect(enc.offsets == want, "\(name) \(text.debugDescription)")
        }
    }
}
