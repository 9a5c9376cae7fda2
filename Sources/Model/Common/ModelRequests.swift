// The JSON Lines requests and responses of `ecom-model forward` and `ecom-generate`: parsing with line numbers,
// running them on a model, and writing the answers.
import Foundation

/// A bad input line: names the source (file or <stdin>) and the 1-based line number.
public struct ModelInputError: Error, CustomStringConvertible {
    public var source: String
    public var line: Int
    public var reason: String
    public var description: String { "\(source):\(line): \(reason)" }
}

/// One input line of the tools.
public struct ModelRequest: Sendable, Equatable {
    /// 1-based line number in the input.
    public var line: Int
    public var ids: [Int32]
    public var attentionMask: [Int32]?
    /// The `"prompt"` text (generation from text).
    public var prompt: String?
    public init(line: Int, ids: [Int32], attentionMask: [Int32]? = nil, prompt: String? = nil) {
        self.line = line; self.ids = ids; self.attentionMask = attentionMask; self.prompt = prompt
    }
}

public enum ModelRequests {
    /// What each line must hold.
    public enum Field: Sendable { case ids, prompt }

    /// Parses non-blank JSON Lines. With `.ids`: `{"ids": [int], "attention_mask": [0|1]?}`, ids inside the
    /// vocabulary, the mask as long as ids and not all zeros; with `.prompt`: `{"prompt": str}`.
    public static func parse(_ data: Data, source: String, field: Field, vocabSize: Int, allowMask: Bool = true) throws -> [ModelRequest] {
        var out: [ModelRequest] = []
        let text = String(decoding: data, as: UTF8.self)
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = i + 1
            if raw.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { continue }
            func fail(_ reason: String) -> ModelInputError { ModelInputError(source: source, line: line, reason: reason) }
            guard let obj = try? JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any] else {
                throw fail("not a JSON object")
            }
            switch field {
            case .prompt:
                guard let p = obj["prompt"] as? String else { throw fail("missing string field \"prompt\"") }
                out.append(ModelRequest(line: line, ids: [], prompt: p))
            case .ids:
                guard let ids = integers(obj["ids"]) else { throw fail("missing field \"ids\" (an array of integers)") }
                guard !ids.isEmpty else { throw fail("\"ids\" is empty") }
                if let bad = ids.first(where: { $0 < 0 || $0 >= vocabSize }) {
                    throw fail("token id \(bad) is outside the vocabulary (0..<\(vocabSize))")
                }
                var mask: [Int32]?
                if let m = obj["attention_mask"] {
                    guard allowMask else { throw fail("\"attention_mask\" is not accepted here") }
                    guard let values = integers(m), values.allSatisfy({ $0 == 0 || $0 == 1 }) else {
                        throw fail("\"attention_mask\" must be an array of 0 and 1")
                    }
                    guard values.count == ids.count else {
                        throw fail("\"attention_mask\" has \(values.count) entries, \"ids\" has \(ids.count)")
                    }
                    guard values.contains(1) else { throw fail("\"attention_mask\" masks every token") }
                    mask = values
                }
                out.append(ModelRequest(line: line, ids: ids, attentionMask: mask))
            }
        }
        return out
    }

    private static func integers(_ value: Any?) -> [Int32]? {
        guard let array = value as? [Any] else { return nil }
        var out: [Int32] = []
        out.reserveCapacity(array.count)
        for x in array {
            guard let n = x as? NSNumber, let v = Int32(exactly: n.doubleValue) else { return nil }
            out.append(v)
        }
        return out
    }

    /// `{"logits": [[float]]}` for one forward request: every position, or the last only.
    public static func forwardLine(_ model: any CausalLanguageModel, _ request: ModelRequest, lastOnly: Bool) -> String {
        let v = model.vocabularySize
        let out = model.forward(ids: request.ids, batch: 1, mask: request.attentionMask, logits: lastOnly ? .last : .all)
        let rows = out.count / v
        var s = "{\"logits\":["
        for r in 0..<rows {
            if r > 0 { s += "," }
            s += "[" + out.storage[(r * v)..<((r + 1) * v)].map { $0.isFinite ? "\($0)" : "null" }.joined(separator: ",") + "]"
        }
        return s + "]}\n"
    }

    /// `{"ids": [int]}`.
    public static func idsLine(_ ids: [Int32]) -> String { "{\"ids\":[" + ids.map(String.init).joined(separator: ",") + "]}\n" }

    /// `{"completion": str}`.
    public static func completionLine(_ text: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: ["completion": text], options: [.withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// The `ecom-model info` summary of an HF directory (either architecture) or a GGUF file: architecture,
    /// configuration, parameter count, tensor dtypes and file sizes.
    public static func info(_ url: URL) throws -> String {
        var object: [String: Any]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        if ModelLoader.isGGUF(url) {
            let file = try GGUFFile(url: url)
            var types: [String: Int] = [:]
            for t in file.tensors { types["\(t.type)", default: 0] += 1 }
            object = ["file": url.path, "format": "gguf", "gguf_version": file.version, "tensors": file.tensors.count,
                      "dtypes": types, "file_size": file.fileSize,
                      "architecture": file.metadata["general.architecture"]?.string ?? "missing"]
            if let name = file.metadata["general.name"]?.string { object["name"] = name }
            if object["architecture"] as? String == "llama" {
                let config = try LlamaConfiguration(gguf: file)
                object["configuration"] = try JSONSerialization.jsonObject(with: encoder.encode(config))
                let model = try ModelLoader.load(gguf: file)
                object["parameters"] = model.parameterCount
                object["bytes_per_token"] = model.bytesPerToken
            }
        } else {
            let checkpoint = try SafeTensorsCheckpoint(directory: url)
            var dtypes: [String: Int] = [:]
            for name in checkpoint.names { dtypes[checkpoint.entry(name)!.dtype.rawValue, default: 0] += 1 }
            let model = try ModelLoader.load(url)
            let config = try model.encodedConfiguration()
            object = ["directory": url.path, "format": "safetensors", "architecture": model.architecture,
                      "configuration": try JSONSerialization.jsonObject(with: config), "parameters": model.parameterCount,
                      "tensors": checkpoint.names.count, "dtypes": dtypes, "files": checkpoint.fileSizes,
                      "bytes_per_token": model.bytesPerToken]
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
