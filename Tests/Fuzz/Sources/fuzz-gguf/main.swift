// Fuzzes the GGUF reader (header, every metadata value type, tensor infos, alignment, data bounds), dequantization of
// every block type, and the tokenizer rebuilt from a file's vocabulary. fuzz-model goes on to whole models.
import EcomLoader
import EcomModel
import EcomTokenizer
import Foundation
import FuzzSupport

@_cdecl("fuzz_gguf_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

/// One input (libFuzzer's LLVMFuzzerTestOneInput).
func fuzz(_ data: Data) {
    let url = Scratch.write(data, to: "model.gguf")
    guard let file = try? GGUFFile(url: url) else { return }
    for t in file.tensors {
        guard t.offset >= 0, t.byteCount >= 0, file.dataOffset + t.offset + t.byteCount <= data.count else {
            violated("tensor '\(t.name)' (\(t.byteCount) bytes at \(t.offset)) lies outside the \(data.count)-byte file")
        }
        if t.count <= 1 << 16 { _ = try? file.floats(of: t.name) }
    }
    if let meta = try? GGUFImport.tokenizerMetadata(file), let tokenizer = try? meta.makeTokenizer(preTokenizer: GGUFImport.preTokenizer) {
        let ids = tokenizer.encode("Hello wörld <|im_start|> 12 345\n", addSpecialTokens: true)
        _ = tokenizer.decode(ids, skipSpecialTokens: false)
    }
}
