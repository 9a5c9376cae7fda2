// `ecom-data cat`: records or packed sequences of a shard directory as JSON Lines on stdout, in stored order or in the
// order `ecom-train --seed S` streams them.
import ArgumentParser
import EcomInstruct
import Foundation

struct Cat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print records (or packed sequences) as JSON Lines.",
        discussion: """
        Record shards print one record per line; packed shards print {"document_ids", "ids", "loss_mask"} per sequence.
        With --stream-seed S, one epoch is printed in the order `ecom-train --seed S` reads it (shard order and windows \
        of --buffer-size sequences shuffled), the order the Python reader in python/ reproduces.
        """)

    @Argument(help: "A directory written by `ecom-data build` or `ecom-data pack`.") var dir: String
    @Option(help: "Only this split (train, validation, test).") var split: String?
    @Option(help: "At most this many records.") var limit: Int?
    @Flag(help: "Print each record rendered with its template as {\"text\": prompt + response} (a corpus for `ecom-tokenizer train`).")
    var text = false
    @Option(help: "Print one epoch in the training stream's order for this seed (ecom-train's --seed).") var streamSeed: UInt64?
    @Option(help: "The stream's shuffle window with --stream-seed (ecom-train uses 1024).") var bufferSize = 1024

    func run() throws {
        try reportingErrors {
            if let s = split, Split(rawValue: s) == nil { throw InstructError("unknown split '\(s)' (train, validation, test)") }
            guard bufferSize > 0 else { throw InstructError("--buffer-size must be positive") }
            let url = URL(fileURLWithPath: dir)
            let kind = try ShardManifest.read(from: url).kind
            if text && kind != ShardKind.records.name { throw InstructError("--text needs record shards; \(dir) holds \(kind) shards") }
            var out = Data()
            try forEachPayload(url) { payload, place in
                if kind == ShardKind.packed.name {
                    let s = try payload.withUnsafeBytes { try PackedSequence.decode($0, place: place) }
                    out += try JSONSerialization.data(withJSONObject: ["ids": s.ids.map(Int.init), "loss_mask": s.lossMask.map(Int.init),
                                                                       "document_ids": s.documentIDs.map(Int.init)], options: [.sortedKeys])
                } else {
                    let r = try RecordCodec.decode(Data(payload), place: place)
                    out += text ? try JSONSerialization.data(withJSONObject: ["text": r.rendered().text], options: [.withoutEscapingSlashes])
                                : RecordCodec.encode(r)
                }
                out.append(0x0A)
                if out.count > 1 << 20 { FileHandle.standardOutput.write(out); out.removeAll(keepingCapacity: true) }
            }
            FileHandle.standardOutput.write(out)
        }
    }

    /// Calls `body` with each payload, up to --limit, in stored order or (with --stream-seed) the training stream's order.
    private func forEachPayload(_ url: URL, _ body: ([UInt8], String) throws -> Void) throws {
        var n = 0
        if let seed = streamSeed {
            let stream = try ShardStream(directory: url, split: split, seed: seed, bufferSize: bufferSize, epochs: 1)
            while limit.map({ n < $0 }) ?? true, let p = try stream.next() {
                try body(p, "\(url.path): epoch 0 stream position \(n)"); n += 1
            }
            return
        }
        for s in try ShardManifest.read(from: url).shards(split: split) {
            let r = try ShardReader(url: url.appendingPathComponent(s.file))
            let more = try r.forEachPayload { p, b, i in
                if let l = limit, n >= l { return false }
                try body(Array(p), "\(r.url.path): block \(b) record \(i)"); n += 1
                return limit.map { n < $0 } ?? true
            }
            if !more { return }
        }
    }
}
