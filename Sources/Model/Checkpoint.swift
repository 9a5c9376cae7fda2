// A model directory's weights: one `model.safetensors` or shards listed by `model.safetensors.index.json`
// (HF transformers' layout), seen as one name → tensor map.
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
