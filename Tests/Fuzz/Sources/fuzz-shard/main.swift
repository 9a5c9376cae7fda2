// Fuzzes the Instruct shard reader (block table, zstd frames, record framing, checksums) and the manifest reader with
// the shard stream over it: an input that starts with `{` is a manifest.json beside one fixed valid shard, anything
// else a shard file. Records in a shard are decoded as instruction records, as the trainer and `pack` read them.
import EcomInstruct
import Foundation
import FuzzSupport

/// A folder holding the seed record shard (Corpus/shard/records.ecs) under the name its seed manifest
/// (Corpus/shard/manifest.json) gives it, for manifest inputs to describe.
let streamFolder: URL = {
    let seed = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Corpus/shard/records.ecs")
    guard let bytes = try? Data(contentsOf: seed) else { fatalError("cannot read the seed shard \(seed.standardizedFileURL.path)") }
    return Scratch.write(bytes, to: "train-00000.ecs", in: "stream").deletingLastPathComponent()
}()

@_cdecl("fuzz_shard_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}

/// One input (libFuzzer's LLVMFuzzerTestOneInput).
func fuzz(_ data: Data) {
    if data.first == UInt8(ascii: "{") {
        _ = streamFolder
        Scratch.write(data, to: ShardManifest.fileName, in: "stream")
        guard let stream = try? ShardStream(directory: streamFolder, seed: 1, bufferSize: 4, epochs: 1) else { return }
        var n = 0
        while n < 64, (try? stream.next()) != nil { n += 1 }
        return
    }
    let url = Scratch.write(data, to: "fuzz.shard")
    guard let reader = try? ShardReader(url: url) else { return }
    _ = reader.fileChecksum()
    if let payloads = try? reader.readAll() {
        for p in payloads.prefix(64) { _ = try? RecordCodec.decode(Data(p), place: "fuzz") }
    }
}
