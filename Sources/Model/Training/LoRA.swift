// LoRA (Hu et al. 2021) as HF PEFT implements it: a frozen linear layer W [out, in] gains y += s · (x Aᵀ) Bᵀ with
// A [r, in], B [out, r] and s = alpha / r (alpha / sqrt(r) with rsLoRA); PEFT's default init draws A Kaiming-uniform
// (a = sqrt(5), i.e. U(-1/sqrt(in), 1/sqrt(in))) and sets B to zero. Adapters are stored in PEFT's layout:
// adapter_config.json and adapter_model.safetensors with keys `base_model.model.<module>.lora_{A,B}.weight`.
import EcomTensor
import Foundation

/// LoRA settings (PEFT's LoraConfig fields r, lora_alpha, target_modules, use_rslora).
public struct LoRAConfiguration: Sendable, Equatable {
    public var rank: Int
    public var alpha: Double
    /// Module names the adapters attach to (`q_proj`, …); a module matches when its path ends with `.name`.
    public var targets: [String]
    /// rsLoRA scaling (alpha / sqrt(r)) instead of alpha / r.
    public var rankStabilized: Bool
    /// The base model recorded in adapter_config.json (`base_model_name_or_path`).
    public var baseModel: String?

    public init(rank: Int, alpha: Double, targets: [String], rankStabilized: Bool = false, baseModel: String? = nil) {
        self.rank = rank; self.alpha = alpha; self.targets = targets; self.rankStabilized = rankStabilized; self.baseModel = baseModel
    }

    /// The multiplier of the low-rank product.
    public var scaling: Float { Float(rankStabilized ? alpha / Double(rank).squareRoot() : alpha / Double(rank)) }

    /// Every projection of a Llama layer.
    public static let llamaTargets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    /// Every linear layer of a BLOOM block.
    public static let bloomTargets = ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"]

    /// Whether the module at `path` (e.g. `model.layers.0.self_attn.q_proj`) is targeted (PEFT's suffix match).
    public func targets(modulePath path: String) -> Bool {
        targets.contains { path == $0 || path.hasSuffix("." + $0) }
    }

    /// PEFT's key of a module's A or B matrix in adapter_model.safetensors.
    public static func key(modulePath: String, _ part: Part) -> String { "base_model.model.\(modulePath).lora_\(part.rawValue).weight" }
    public enum Part: String, Sendable { case A, B }

    /// adapter_config.json as PEFT writes it (the fields PEFT 0.x reads; no dropout, bias "none").
    public func adapterConfigJSON() throws -> Data {
        let object: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": rank, "lora_alpha": alpha, "lora_dropout": 0.0,
            "target_modules": targets, "bias": "none", "fan_in_fan_out": false, "inference_mode": true,
            "init_lora_weights": true, "use_rslora": rankStabilized, "use_dora": false, "modules_to_save": NSNull(),
            "layers_to_transform": NSNull(), "layers_pattern": NSNull(), "rank_pattern": [String: Any](),
            "alpha_pattern": [String: Any](), "base_model_name_or_path": baseModel ?? NSNull(), "revision": NSNull(),
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }

    /// Reads `directory/adapter_config.json`; settings Ecom does not implement (DoRA, per-module ranks, trained
    /// biases, extra saved modules, fan-in-fan-out weights, regex targets) are errors naming the file and field.
    public static func read(directory: URL) throws -> LoRAConfiguration {
        let url = directory.appendingPathComponent("adapter_config.json")
        func fail(_ m: String) -> TrainingError { TrainingError("\(url.path): \(m)") }
        guard let data = FileManager.default.contents(atPath: url.path) else { throw fail("missing (a PEFT adapter directory holds adapter_config.json and adapter_model.safetensors)") }
        guard let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw fail("not a JSON object") }
        if let t = o["peft_type"] as? String, t != "LORA" { throw fail("peft_type \"\(t)\": only LORA adapters are supported") }
        guard let r = (o["r"] as? NSNumber)?.intValue, r > 0 else { throw fail("\"r\" must be a positive integer") }
        guard let alpha = (o["lora_alpha"] as? NSNumber)?.doubleValue else { throw fail("\"lora_alpha\" must be a number") }
        let targets: [String]
        if let list = o["target_modules"] as? [String], !list.isEmpty { targets = list }
        else if let one = o["target_modules"] as? String, one.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) { targets = [one] }
        else { throw fail("\"target_modules\" must be a list of module names (regular expressions are not supported)") }
        if o["use_dora"] as? Bool == true { throw fail("\"use_dora\": DoRA adapters are not supported") }
        if o["fan_in_fan_out"] as? Bool == true { throw fail("\"fan_in_fan_out\": true is for GPT-2's Conv1D layers, not supported") }
        if let b = o["bias"] as? String, b != "none" { throw fail("\"bias\": \"\(b)\": trained biases are not supported (use \"none\")") }
        for k in ["rank_pattern", "alpha_pattern"] {
            if let p = o[k] as? [String: Any], !p.isEmpty { throw fail("\"\(k)\": per-module settings are not supported") }
        }
        if let m = o["modules_to_save"] as? [Any], !m.isEmpty { throw fail("\"modules_to_save\": fully trained extra modules are not supported") }
        if o["layers_to_transform"] is [Any] || o["layers_to_transform"] is NSNumber { throw fail("\"layers_to_transform\" is not supported") }
        return LoRAConfiguration(rank: r, alpha: alpha, targets: targets, rankStabilized: o["use_rslora"] as? Bool ?? false,
                                 baseModel: o["base_model_name_or_path"] as? String)
    }
}

/// A loaded adapter: its settings and every A and B matrix by PEFT key.
public struct LoRAAdapter: Sendable {
    public var configuration: LoRAConfiguration
    /// PEFT key → (shape, values).
    public var tensors: [String: (shape: [Int], values: [Float])]

    public init(configuration: LoRAConfiguration, tensors: [String: (shape: [Int], values: [Float])]) {
        self.configuration = configuration; self.tensors = tensors
    }

    /// Reads a PEFT adapter directory (adapter_config.json + adapter_model.safetensors; F32, F16 or BF16 values).
    public static func load(directory: URL) throws -> LoRAAdapter {
        let config = try LoRAConfiguration.read(directory: directory)
        let file = directory.appendingPathComponent("adapter_model.safetensors")
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw TrainingError("\(file.path): missing (adapter_model.bin pickles are not read; save with safe_serialization)")
        }
        let checkpoint = try SafeTensorsCheckpoint(file: file)
        var tensors: [String: (shape: [Int], values: [Float])] = [:]
        for name in checkpoint.names {
            let e = checkpoint.entry(name)!
            guard e.shape.count == 2 else { throw SafeTensorsError(file: file.path, "tensor '\(name)' has shape \(e.shape); LoRA matrices are 2-D") }
            tensors[name] = (e.shape, try checkpoint.floats(name, shape: e.shape, architecture: "LoRA"))
        }
        return LoRAAdapter(configuration: config, tensors: tensors)
    }

    /// The A `[r, in]` and B `[out, r]` of the module at `path` checked against the base matrix's shape, or nil when
    /// the adapter has neither. `file` names the adapter in errors.
    public func matrices(modulePath path: String, rows: Int, columns: Int, file: String) throws -> (a: [Float], b: [Float])? {
        let ka = LoRAConfiguration.key(modulePath: path, .A), kb = LoRAConfiguration.key(modulePath: path, .B)
        guard let a = tensors[ka], let b = tensors[kb] else {
            if tensors[ka] != nil || tensors[kb] != nil { throw TrainingError("\(file): \(path) has only one of lora_A and lora_B") }
            return nil
        }
        let r = configuration.rank
        guard a.shape == [r, columns] else { throw TrainingError("\(file): \(ka) has shape \(a.shape), expected [\(r), \(columns)] (r = \(r))") }
        guard b.shape == [rows, r] else { throw TrainingError("\(file): \(kb) has shape \(b.shape), expected [\(rows), \(r)] (r = \(r))") }
        return (a.values, b.values)
    }

    /// Checks that every tensor of the adapter belongs to one of `modulePaths` (a key for another model is an error).
    public func checkKeys(modulePaths: [String], file: String) throws {
        let known = Set(modulePaths.flatMap { [LoRAConfiguration.key(modulePath: $0, .A), LoRAConfiguration.key(modulePath: $0, .B)] })
        let unknown = tensors.keys.filter { !known.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw TrainingError("\(file): \(unknown.count) tensor(s) match no module of the base model, e.g. \(unknown[0]); is the adapter for another architecture?")
        }
        if tensors.isEmpty { throw TrainingError("\(file): the adapter holds no tensors") }
    }

    /// W + s · B A for the module at `path` (W `[rows, columns]` row-major), or nil when the module has no adapter.
    public func merged(modulePath path: String, weight: WeightMatrix, file: String) throws -> WeightMatrix? {
        guard let (a, b) = try matrices(modulePath: path, rows: weight.rows, columns: weight.columns, file: file) else { return nil }
        var w = weight.floats()
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in w.withUnsafeMutableBufferPointer { w in
            LoRAPair.merge(a: a.baseAddress!, b: b.baseAddress!, rank: configuration.rank, scale: configuration.scaling,
                           into: w.baseAddress!, rows: weight.rows, columns: weight.columns)
        } } }
        return WeightMatrix(rows: weight.rows, columns: weight.columns, floats: w)
    }

    /// Writes adapter_config.json and adapter_model.safetensors into `directory`, each atomically.
    public static func save(configuration: LoRAConfiguration, tensors: [SafeTensorsTensor], to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try SafeTensorsWriter.write(tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent("adapter_model.safetensors"))
        try AtomicFile.write(try configuration.adapterConfigJSON(), to: directory.appendingPathComponent("adapter_config.json"))
    }
}

extension LlamaWeights {
    /// HF module paths of every projection (`model.layers.L.self_attn.q_proj`, …), layer by layer.
    public var modulePaths: [String] {
        layers.indices.flatMap { l in layers[l].matrices.map { "model.layers.\(l).\($0.0)" } }
    }

    /// The weights with `adapter` merged into the projections it targets (those become Float32; the others keep
    /// their storage): what PEFT's `merge_and_unload()` computes.
    public func merging(_ adapter: LoRAAdapter, file: String) throws -> LlamaWeights {
        try adapter.checkKeys(modulePaths: modulePaths, file: file)
        var out = self
        for l in layers.indices {
            let p = "model.layers.\(l)."
            var layer = layers[l]
            func merge(_ kp: WritableKeyPath<LlamaLayerWeights, WeightMatrix>, _ name: String) throws {
                if let m = try adapter.merged(modulePath: p + name, weight: layer[keyPath: kp], file: file) { layer[keyPath: kp] = m }
            }
            try merge(\.query, "self_attn.q_proj"); try merge(\.key, "self_attn.k_proj"); try merge(\.value, "self_attn.v_proj")
            try merge(\.output, "self_attn.o_proj"); try merge(\.gate, "mlp.gate_proj"); try merge(\.up, "mlp.up_proj")
            try merge(\.down, "mlp.down_proj")
            out.layers[l] = layer
        }
        return out
    }
}
