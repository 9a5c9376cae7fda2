// Fuzzes the safetensors reader (header, offsets, dtypes, shapes) and the sharded checkpoint index: an input that
// starts with `{` is a `model.safetensors.index.json` over a fixed valid shard, anything else a safetensors file.
import EcomModel
import Foundation
import FuzzSupport

/// A valid two-tensor shard that index inputs may name ("model-00001-of-00001.safetensors").
let shardFolder: URL = {
    var header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2,1],"data_offsets":[8,12]}}"#
    while (8 + header.utf8.count) % 8 != 0 { header += " " }
    var bytes = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
    bytes.append(Data(header.utf8))
    bytes.append(Data(count: 12))
    return Scratch.write(bytes, to: "model-00001-of-00001.safetensors", in: "index").deletingLastPathComponent()
}()

/// Everything a reader promises about an opened file: every tensor's bytes lie inside it and match its shape.
func check(_ file: SafeTensorsFile, size: Int, headerLength: Int) throws {
    for (name, e) in file.entries {
        guard e.shape.allSatisfy({ $0 >= 0 }) else { violated("'\(name)' has a negative dimension \(e.shape)") }
        guard 8 + headerLength + e.range.upperBound <= size, e.range.lowerBound >= 0 else {
            violated("'\(name)' range \(e.range) past the data of a \(size)-byte file")
        }
        let raw = try file.rawBytes(name)
        guard raw.count == e.count * e.dtype.size else { violated("'\(name)': \(raw.count) bytes for \(e.count) × \(e.dtype)") }
    }
}

@_cdecl("fuzz_safetensors_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

/// One input (libFuzzer's LLVMFuzzerTestOneInput).
func fuzz(_ data: Data) {
    if data.first == UInt8(ascii: "{") {
        Scratch.write(data, to: "model.safetensors.index.json", in: "index")
        guard let c = try? SafeTensorsCheckpoint(directory: shardFolder) else { return }
        for name in c.names {
            guard let e = c.entry(name) else { violated("'\(name)' listed without an entry") }
            _ = try? c.floats(name, shape: e.shape, architecture: "fuzz")
        }
        return
    }
    let url = Scratch.write(data, to: "model.safetensors")
    guard let file = try? SafeTensorsFile(contentsOf: url) else { return }
    let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
    do { try check(file, size: data.count, headerLength: headerLength) } catch { violated("rawBytes threw for a listed tensor: \(error)") }
    if let c = try? SafeTensorsCheckpoint(file: url) {
        for name in c.names { if let e = c.entry(name) { _ = try? c.floats(name, shape: e.shape, architecture: "fuzz") } }
    }
}
