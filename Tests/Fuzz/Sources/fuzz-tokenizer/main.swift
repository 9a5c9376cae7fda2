// Fuzzes tokenizer.json loading (model, merges, added tokens, normalizer, pre-tokenizer, decoder) and, when a file
// loads, encoding and decoding with it.
import EcomTokenizer
import Foundation
import FuzzSupport

let sample = "Hello wörld! <s> don't 12345 \u{1F600} \t\n  e-commerce 商品"

@_cdecl("fuzz_tokenizer_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

/// One input (libFuzzer's LLVMFuzzerTestOneInput).
func fuzz(_ data: Data) {
    guard let tokenizer = try? Tokenizer(json: data) else { return }
    let encoding = tokenizer.encode(sample, addSpecialTokens: true)
    for id in encoding where id < 0 || id >= tokenizer.vocabularySize {
        violated("encode gave id \(id) outside the vocabulary of \(tokenizer.vocabularySize)")
    }
    _ = tokenizer.decode(encoding, skipSpecialTokens: true)
    _ = tokenizer.decode(encoding, skipSpecialTokens: false)
    _ = tokenizer.decode([0, 1, 2, tokenizer.vocabularySize - 1, tokenizer.vocabularySize + 5], skipSpecialTokens: false)
}
