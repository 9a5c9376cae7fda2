// bench-data: zstd record shards, ours (ShardWriter / ShardReader at level 3) on the same bytes the `zstd` command line
// compresses in scripts/bench/data.sh; plus the streaming reader's decoded records per second.
//
// Environment: BENCH_DATA_DIR (scratch directory; the JSON Lines file `records.jsonl` is written there for the CLI),
// BENCH_DATA_MB (approximate uncompressed size, default 64).
import BenchSupport
import EcomInstruct
import Foundation

startBenchmark()

func run() throws {
    let dir = URL(fileURLWithPath: env("BENCH_DATA_DIR", NSTemporaryDirectory() + "ecom-bench-data"))
    let targetBytes = (Int(env("BENCH_DATA_MB", "64")) ?? 64) << 20
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)

    // Records: the embedded sample's primary and atomic records, varied by a counter so that the data is not one repeat.
    let corpus = try RawCorpus.embeddedSample()
    let base = corpus.primaryRecords(seed: 1) + AtomicTasks.fromRaw(corpus, seed: 1)
    var payloads: [Data] = []
    var total = 0
    var jsonl = Data()
    var i = 0
    while total < targetBytes {
        var r = base[i % base.count]
        r.id += "/\(i)"
        r.input += " #\(i * 7919 % 100_003)"
        let p = RecordCodec.encode(r)
        payloads.append(p)
        jsonl.append(p); jsonl.append(0x0A)
        total += p.count + 1
        i += 1
    }
    try jsonl.write(to: dir.appendingPathComponent("records.jsonl"))
    let mb = Double(jsonl.count) / 1e6
    let shardDir = dir.appendingPathComponent("shards")

    func writeShards() throws {
        try? FileManager.default.removeItem(at: shardDir)
        let w = try ShardWriter(directory: shardDir, prefix: "train", kind: .records, targetShardBytes: 1 << 40, level: 3)
        for p in payloads { try w.append(p) }
        try ShardManifest(kind: .records, compressionLevel: 3, shards: try w.finish(split: "train")).write(to: shardDir)
    }

    let tWrite = try medianSeconds(warmup: 1, iterations: 5) { try writeShards() }
    let m = try ShardManifest.read(from: shardDir)
    let compressed = m.shards.reduce(0) { $0 + $1.bytes }
    emit(bench: "data", case: "shard_write_level3", value: mb / tWrite, unit: "MB/s", higherIsBetter: true,
         extra: ["uncompressed_mb": mb, "ratio_compressed": Double(compressed) / Double(jsonl.count)])

    var checksum = 0
    let tRead = try medianSeconds(warmup: 1, iterations: 5) {
        var buf: [UInt8] = []
        for s in m.shards {
            let r = try ShardReader(url: shardDir.appendingPathComponent(s.file))
            for b in r.blocks.indices {
                try r.readBlock(b, into: &buf)
                try r.forEachRecord(inBlock: b, buf) { checksum &+= $0.count }
            }
        }
    }
    emit(bench: "data", case: "shard_read", value: mb / tRead, unit: "MB/s", higherIsBetter: true, extra: ["uncompressed_mb": mb])

    // The training-side reader: shuffled stream, each record decoded from JSON.
    let n = min(payloads.count, 50_000)
    let tStream = try medianSeconds(warmup: 1, iterations: 3) {
        let s = try ShardStream(directory: shardDir, seed: 1, bufferSize: 4096, epochs: 1)
        for _ in 0..<n { _ = try s.nextRecord() }
    }
    emit(bench: "data", case: "stream_records_decoded", value: Double(n) / tStream, unit: "records/s", higherIsBetter: true,
         extra: ["note": "shuffled stream + JSON decode; training consumes a few records/s on CPU"])
    let tRaw = try medianSeconds(warmup: 1, iterations: 3) {
        let s = try ShardStream(directory: shardDir, seed: 1, bufferSize: 4096, epochs: 1)
        while try s.next() != nil {}
    }
    emit(bench: "data", case: "stream_records_raw", value: Double(payloads.count) / tRaw, unit: "records/s", higherIsBetter: true)
    if checksum == 42 { print("") }
}

try run()
