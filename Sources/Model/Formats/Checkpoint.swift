// A model directory's weights: one `model.safetensors` or shards listed by `model.safetensors.index.json`
// (HF transformers' layout), seen as one name → tensor map.
import EcomTensor
import Foundation

/// The safetensors weights of a model directory, single-file or sharded.
public final class SafeTensorsCheckpoint: @unchecked Sendable {
    /// The directory.
    public let directory: URL
    private var files: [SafeTensorsFile] = []
    private var owner: [String: Int] = [:]

    /// Opens `directory/model.safetensors.index.json` when present (every shard it names, and checks that each name
    /// is in the shard the index says), else `directory/model.safetensors`.
    public init(directory: URL) throws {
        self.directory = directory
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        let single = directory.appendingPathComponent("model.safetensors")
        if FileManager.default.fileExists(atPath: index.path) {
            struct Index: Decodable { var weight_map: [String: String] }
            let map: [String: String]
            do { map = try JSONDecoder().decode(Index.self, from: Data(contentsOf: index)).weight_map } catch {
                throw SafeTensorsError(file: index.path, "not a valid index (needs a weight_map object of name → file): \(error)")
            }
            var fileIndex: [String: Int] = [:]
            for shard in Set(map.values).sorted() {
                guard !shard.contains("/") else { throw SafeTensorsError(file: index.path, "shard name '\(shard)' must be a file in the same directory") }
                fileIndex[shard] = files.count
                files.append(try SafeTensorsFile(contentsOf: directory.appendingPathComponent(shard)))
            }
            for (name, shard) in map {
                let i = fileIndex[shard]!
                guard files[i].entries[name] != nil else {
                    throw SafeTensorsError(file: files[i].path, "tensor '\(name)' is listed in \(index.lastPathComponent) but missing from the shard")
                }
                owner[name] = i
            }
        } else if FileManager.default.fileExists(atPath: single.path) {
            files = [try SafeTensorsFile(contentsOf: single)]
            for name in files[0].entries.keys { owner[name] = 0 }
        } else {
            throw SafeTensorsError(file: directory.path, "no model.safetensors or model.safetensors.index.json in the directory")
        }
    }

    /// One safetensors file on its own (an adapter's adapter_model.safetensors); `directory` is its folder.
    public init(file: URL) throws {
        directory = file.deletingLastPathComponent()
        files = [try SafeTensorsFile(contentsOf: file)]
        for name in files[0].entries.keys { owner[name] = 0 }
    }

    /// All tensor names, sorted.
    public var names: [String] { owner.keys.sorted() }

    /// A tensor's header entry, or nil.
    public func entry(_ name: String) -> SafeTensorsEntry? { owner[name].flatMap { files[$0].entries[name] } }

    /// The file holding a tensor (for error messages).
    public func file(of name: String) -> String? { owner[name].map { files[$0].path } }

    /// A tensor's raw bytes, valid while this checkpoint is alive.
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        guard let i = owner[name] else { throw SafeTensorsError(file: directory.path, "no tensor named '\(name)'") }
        return try files[i].rawBytes(name)
    }

    /// A tensor widened to Float32 (F32, F16 or BF16 in the file), after checking it has `shape`.
    /// `architecture` names the model in the dtype error ("BLOOM weights must be F32, F16 or BF16").
    public func floats(_ name: String, shape: [Int], architecture: String) throws -> [Float] {
        let file = self.file(of: name) ?? directory.path
        guard let e = entry(name) else { throw SafeTensorsError(file: file, "no tensor named '\(name)'") }
        guard e.shape == shape else {
            throw SafeTensorsError(file: file, "tensor '\(name)' has shape \(e.shape), the configuration implies \(shape)")
        }
        let raw = try rawBytes(name)
        var out = [Float](repeating: 0, count: e.count)
        switch e.dtype {
        case .f32: out.withUnsafeMutableBytes { $0.copyMemory(from: raw) }
        case .f16, .bf16:
            var bits = [UInt16](repeating: 0, count: e.count)
            bits.withUnsafeMutableBytes { $0.copyMemory(from: raw) }
            bits.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { o in
                    if e.dtype == .f16 { HalfPrecision.fromFloat16(b, o) } else { HalfPrecision.fromBFloat16(b, o) }
                }
            }
        default:
            throw SafeTensorsError(file: file, "tensor '\(name)' has dtype \(e.dtype.rawValue); \(architecture) weights must be F32, F16 or BF16")
        }
        return out
    }

    /// Checks a configuration's layer count against the tensors present before anything sized by it is built
    /// (a hostile config.json with 10^9 layers would otherwise spin building tens of billions of expected names).
    public func checkLayerCount(_ layers: Int, tensorsPerLayer: Int, key: String, architecture: String) throws {
        guard layers <= names.count / tensorsPerLayer else {
            throw SafeTensorsError(file: directory.path,
                                   "config.json's \(key) = \(layers): \(architecture) layers have \(tensorsPerLayer) tensors each, and the checkpoint holds \(names.count) tensors in all")
        }
    }

    /// Compares the checkpoint's names with `expected` (strict loading): an error listing every missing and
    /// unexpected key, or nothing.
    public func checkNames(expected: Set<String>, optional: Set<String> = [], architecture: String) throws {
        let present = Set(names)
        let missing = expected.subtracting(present).sorted()
        let unexpected = names.filter { !expected.contains($0) && !optional.contains($0) }
        if missing.isEmpty && unexpected.isEmpty { return }
        func list(_ names: [String]) -> String {
            names.count <= 12 ? names.joined(separator: ", ") : names.prefix(12).joined(separator: ", ") + ", … (\(names.count) in all)"
        }
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing keys: " + list(missing)) }
        if !unexpected.isEmpty { parts.append("unexpected keys: " + list(unexpected)) }
        throw SafeTensorsError(file: directory.path, "checkpoint does not match the \(architecture) configuration: " + parts.joined(separator: "; "))
    }

    /// Sizes of the weight files in bytes, by file name.
    public var fileSizes: [String: Int] {
        var out: [String: Int] = [:]
        for f in files {
            let size = (try? FileManager.default.attributesOfItem(atPath: f.path)[.size] as? Int) ?? nil
            out[URL(fileURLWithPath: f.path).lastPathComponent] = size ?? 0
        }
        return out
    }
}
