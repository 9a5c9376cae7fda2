// `ecom-model import-gguf`: a GGUF file as an HF transformers directory — config.json (LlamaForCausalLM),
// model.safetensors with HF names (q/k rows put back in HF's order), tokenizer.json and tokenizer_config.json rebuilt
// from the GGUF vocabulary, generation_config.json — so that `from_pretrained(DIR)` gives what
// `from_pretrained(…, gguf_file=…)` gives.
import EcomModel
import EcomTokenizer
import Foundation

public enum GGUFImport {
    /// The pre-tokenizer written for byte-level BPE vocabularies: the model's original one (for SmolLM2, single digits
    /// split before GPT-2's byte-level split, as llama.cpp tokenizes `smollm`). transformers' GGUF loader drops the
    /// digit split; `.transformers` reproduces that instead.
    public static let preTokenizer: GGUFPreTokenizerOption = .original

    /// The tokenizer metadata of a GGUF file (`tokenizer.ggml.*`, `tokenizer.chat_template`).
    public static func tokenizerMetadata(_ file: GGUFFile) throws -> GGUFTokenizerMetadata {
        let m = file.metadata
        guard let model = m["tokenizer.ggml.model"]?.string else {
            throw GGUFError(file: file.path, subject: "metadata 'tokenizer.ggml.model'", "missing: the file carries no tokenizer")
        }
        guard let tokens = m["tokenizer.ggml.tokens"]?.stringArray else {
            throw GGUFError(file: file.path, subject: "metadata 'tokenizer.ggml.tokens'", "missing or not an array of strings")
        }
        let merges = m["tokenizer.ggml.merges"]?.stringArray ?? []
        let types = (m["tokenizer.ggml.token_type"]?.intArray ?? []).map { Int32(truncatingIfNeeded: $0) }
        return GGUFTokenizerMetadata(
            model: model, pre: m["tokenizer.ggml.pre"]?.string, tokens: tokens, merges: merges, tokenTypes: types,
            bosTokenId: m["tokenizer.ggml.bos_token_id"]?.int, eosTokenId: m["tokenizer.ggml.eos_token_id"]?.int,
            unknownTokenId: m["tokenizer.ggml.unknown_token_id"]?.int, paddingTokenId: m["tokenizer.ggml.padding_token_id"]?.int,
            addBOS: m["tokenizer.ggml.add_bos_token"]?.bool, addEOS: m["tokenizer.ggml.add_eos_token"]?.bool,
            addSpacePrefix: m["tokenizer.ggml.add_space_prefix"]?.bool, chatTemplate: m["tokenizer.chat_template"]?.string,
            contextLength: m["llama.context_length"]?.int)
    }

    /// What an import wrote.
    public struct Summary: Sendable {
        public var directory: URL
        public var files: [String]
        public var parameters: Int
        public var tensorTypes: [String: Int]
    }

    /// Imports `gguf` into `directory` (created; existing files replaced, each atomically).
    public static func run(gguf url: URL, to directory: URL, dtype: CheckpointDType = .f32,
                           preTokenizer: GGUFPreTokenizerOption = preTokenizer) throws -> Summary {
        let file = try GGUFFile(url: url)
        let arch = file.metadata["general.architecture"]?.string ?? "missing"
        guard arch == "llama" else {
            throw GGUFError(file: url.path, subject: "metadata 'general.architecture'", "import of '\(arch)' models is not supported (only 'llama')")
        }
        let config = try LlamaConfiguration(gguf: file)
        let weights = try LlamaWeights.load(gguf: file, configuration: config, precision: .float32)
        try HFDirectoryWriter.write(config, weights, dtype: dtype, to: directory)
        let files = ["config.json", "model.safetensors", "generation_config.json"]
            + (try writeTokenizerFiles(file, to: directory, preTokenizer: preTokenizer))
        var types: [String: Int] = [:]
        for t in file.tensors { types["\(t.type)", default: 0] += 1 }
        return Summary(directory: directory, files: files, parameters: weights.parameterCount, tensorTypes: types)
    }
}

extension GGUFImport {
    /// Writes tokenizer.json and tokenizer_config.json (with the chat template) rebuilt from the GGUF's vocabulary into
    /// `directory`, each atomically, and returns their names; a file without tokenizer metadata writes nothing.
    public static func writeTokenizerFiles(_ file: GGUFFile, to directory: URL,
                                           preTokenizer: GGUFPreTokenizerOption = preTokenizer) throws -> [String] {
        guard file.metadata["tokenizer.ggml.model"] != nil else { return [] }
        let metadata = try tokenizerMetadata(file)
        try AtomicFile.write(metadata.tokenizerJSON(preTokenizer: preTokenizer), to: directory.appendingPathComponent("tokenizer.json"))
        try AtomicFile.write(metadata.tokenizerConfigJSON(), to: directory.appendingPathComponent("tokenizer_config.json"))
        return ["tokenizer.json", "tokenizer_config.json"]
    }
}

/// Which pre-tokenizer an imported tokenizer.json gets (see ``GGUFImport/preTokenizer``).
public typealias GGUFPreTokenizerOption = GGUFTokenizerMetadata.PreTokenizerChoice
