// `ecom-model import-gguf`: a GGUF file as an HF transformers directory (config, safetensors, tokenizer, chat template).
import ArgumentParser
import EcomLoader
import EcomModel
import Foundation

struct ImportGGUF: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-gguf",
        abstract: "Write a GGUF model as an HF directory: config.json, model.safetensors, tokenizer.json, tokenizer_config.json, generation_config.json.",
        discussion: "Quantized tensors are dequantized as the gguf package does and q/k rows are put back in HF's order, so that transformers' from_pretrained(DIR) gives the logits of from_pretrained(..., gguf_file=...).")
    @Argument(help: "The .gguf file.") var file: String
    @Option(help: "Output directory (created).") var out: String
    @Option(help: "Tensor dtype in model.safetensors: f32, bf16 or f16.") var dtype = "f32"
    @Option(help: "Pre-tokenizer of tokenizer.json: original (the model's own, as llama.cpp splits) or transformers (as transformers' GGUF loader builds it).")
    var preTokenizer = "original"

    func run() throws {
        guard let d = CheckpointDType(name: dtype) else { throw ValidationError("--dtype must be f32, bf16 or f16, got '\(dtype)'") }
        let pre: GGUFPreTokenizerOption
        switch preTokenizer { case "original": pre = .original; case "transformers": pre = .transformers
        default: throw ValidationError("--pre-tokenizer must be original or transformers, got '\(preTokenizer)'") }
        let started = Date()
        let s = try GGUFImport.run(gguf: URL(fileURLWithPath: file), to: URL(fileURLWithPath: out), dtype: d, preTokenizer: pre)
        let types = s.tensorTypes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        FileHandle.standardError.write(Data(String(format: "import-gguf: %@ -> %@ (%d parameters; tensors %@) in %.1f s\n",
            file, out, s.parameters, types, Date().timeIntervalSince(started)).utf8))
        print(s.files.map { URL(fileURLWithPath: out).appendingPathComponent($0).path }.joined(separator: "\n"))
    }
}
