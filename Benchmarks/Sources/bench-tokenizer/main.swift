// bench-tokenizer: encodes a JSON Lines corpus ({"text"}) with a tokenizer.json, one thread and all cores; MB/s of UTF-8 text.
// Usage: bench-tokenizer TOKENIZER.json CORPUS.jsonl
import BenchSupport
import EcomTokenizer
import Foundation

startBenchmark()

let args = CommandLine.arguments
guard args.count == 3 else { FileHandle.standardError.write(Data("usage: bench-tokenizer TOKENIZER.json CORPUS.jsonl\n".utf8)); exit(2) }
let tok = try Tokenizer(contentsOf: URL(fileURLWithPath: args[1]))
let texts = try BPETrainer.readCorpus([URL(fileURLWithPath: args[2])])
let megabytes = Double(texts.reduce(0) { $0 + $1.utf8.count }) / 1e6
var tokens = 0
for threads in [1, ProcessInfo.processInfo.activeProcessorCount] {
    // Word caches persist across runs, as HF's BPE cache does; both sides warm up first.
    let seconds = medianSeconds(warmup: 1, iterations: 3) { tokens = tok.encodeBatch(texts, threads: threads).reduce(0) { $0 + $1.count } }
    emit(bench: "tokenizer", case: threads == 1 ? "encode_all_shared_text_1thread" : "encode_all_shared_text_\(threads)threads",
         value: megabytes / seconds, unit: "MB/s", higherIsBetter: true,
         extra: ["megabytes": megabytes, "texts": texts.count, "tokens": tokens, "threads": threads])
}
