// Fuzzes model loading from GGUF as the tools do it (ModelBundle.load): the Llama configuration from metadata, the
// weights in each precision the loaders offer (blocks kept, widened, converted), the tokenizer and the chat template,
// then one forward step of a model that loads. Slower per input than fuzz-gguf, which covers the reader alone.
import EcomLoader
import EcomModel
import Foundation
import FuzzSupport

@_cdecl("fuzz_model_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

let precisions: [WeightPrecision?] = [nil, .float32, .bfloat16]

/// One input (libFuzzer's LLVMFuzzerTestOneInput): the last byte picks the precision, the whole input is the file.
func fuzz(_ data: Data) {
    let url = Scratch.write(data, to: "model.gguf")
    let precision = precisions[Int(data.last ?? 0) % precisions.count]
    guard let bundle = try? ModelBundle.load(url, precision: precision) else { return }
    _ = bundle.prompt(user: "Hi")
    guard let tokenizer = bundle.tokenizer else { return }
    let ids = tokenizer.encode("Hello", addSpecialTokens: true).map(Int32.init)
    if !ids.isEmpty, ids.count <= 16 { _ = bundle.model.forward(ids: ids, batch: 1, logits: .last) }
}
