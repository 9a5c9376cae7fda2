// Byte-level BPE training (BLOOM and GPT-2 presets) writing an HF tokenizer.json.
// Reference: HF tokenizers `models::bpe::trainer::BpeTrainer` (same merge order and tie-breaking, see `train`).
import Foundation

/// Trains a byte-level BPE and writes it as tokenizer.json.
public struct BPETrainer: Sendable {
    /// The pre-tokenizer and decoder configuration of the trained file.
    public enum Preset: String, Sendable, CaseIterable {
        /// BLOOM: Split on BLOOM's regex (isolated), then ByteLevel without prefix space or regex.
        case bloom
        /// GPT-2: ByteLevel with the GPT-2 regex and no prefix space.
        case gpt2
    }

    public var vocabSize: Int
    public var minFrequency: Int
    public var specialTokens: [String]
    public var preset: Preset

    public init(vocabSize: Int, minFrequency: Int = 0, specialTokens: [String] = ["<unk>", "<s>", "</s>", "<pad>"],
                preset: Preset = .bloom) {
        self.vocabSize = vocabSize
        self.minFrequency = minFrequency
        self.specialTokens = specialTokens
        self.preset = preset
    }

    /// The pre-tokenizer JSON of the preset (as written into the file).
    var preTokenizerJSON: String {
        switch preset {
        case .bloom:
            return #"{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"#
                + jsonQuoted(SplitPattern.bloomSource)
                + #"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]}"#
        case .gpt2:
            return #"{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}"#
        }
    }

    /// Reads training texts: a `.jsonl` file gives the `text` field of each line, any other file its lines.
    public static func readCorpus(_ urls: [URL]) throws -> [String] {
        var texts: [String] = []
        for url in urls {
            let data: Data
            do { data = try Data(contentsOf: url) } catch {
                throw TokenizerError.unreadable(path: url.path, reason: error.localizedDescription)
            }
            let content = String(decoding: data, as: UTF8.self)
            let isJSONL = url.pathExtension.lowercased() == "jsonl"
            for (n, line) in content.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                if line.isEmpty { continue }
                if isJSONL {
                    guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                        throw TokenizerError.badLine(source: url.path, line: n + 1, reason: "not a JSON object")
                    }
                    guard let text = obj["text"] as? String else {
                        throw TokenizerError.badLine(source: url.path, line: n + 1, reason: "missing string field \"text\"")
                    }
                    texts.append(text)
                } else {
                    texts.append(String(line))
                }
            }
        }
        return texts
    }

    /// Trains on `texts` and returns the tokenizer.json document.
    ///
    /// Ids: the special tokens first, then the 256 byte-level characters sorted by code point, then one id per
    /// new merged token. Each step merges the adjacent pair with the highest count over all words (count x word
    /// frequency); ties go to the smallest pair of ids (left id, then right id), as HF's trainer orders its queue.
    /// Within a word, occurrences are merged left to right without overlap. Training stops at `vocabSize`, when
    /// no pair is left, or when the best count is below `minFrequency`.
    public func train(texts: [String]) throws -> Data {
        guard vocabSize > 0 else { throw TokenizerError.invalidArgument("vocab size must be positive") }
        let pre = try PreTokenizer(json: JSONFields(JSONSerialization.jsonObject(with: Data(preTokenizerJSON.utf8)), path: "pre_tokenizer"))

        // Word frequencies.
        var counts: [[UInt8]: Int] = [:]
        var scratch = PreTokenizerScratch()
        var pieces: [Piece] = []
        for text in texts {
            var text = text
            text.withUTF8 { p in
                pieces.removeAll(keepingCapacity: true)
                if p.isEmpty { return }
                pre.run(p, Piece(start: 0, end: p.count), &scratch, &pieces)
                for piece in pieces {
                    var w: [UInt8] = piece.prefixSpace ? [0x20] : []
                    w.append(contentsOf: UnsafeBufferPointer(rebasing: p[piece.start..<piece.end]))
                    counts[w, default: 0] += 1
                }
            }
        }

        // Initial vocabulary.
        var tokens: [String] = []
        var ids: [String: Int32] = [:]
        for s in specialTokens where ids[s] == nil { ids[s] = Int32(tokens.count); tokens.append(s) }
        var byteId = [Int32](repeating: 0, count: 256)
        for b in (0..<256).sorted(by: { ByteLevelAlphabet.scalars[$0].value < ByteLevelAlphabet.scalars[$1].value }) {
            let s = String(ByteLevelAlphabet.scalars[b])
            if let existing = ids[s] { byteId[b] = existing; continue }
            ids[s] = Int32(tokens.count); byteId[b] = Int32(tokens.count); tokens.append(s)
        }

        var words: [[Int32]] = []
        var freqs: [Int] = []
        for (w, c) in counts.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            words.append(w.map { byteId[Int($0)] })
            freqs.append(c)
        }
        var pairCounts: [UInt64: Int] = [:]
        var whereIs: [UInt64: Set<Int>] = [:]
        for (wi, w) in words.enumerated() where w.count > 1 {
            for i in 0..<(w.count - 1) {
                let k = MergeTable.key(w[i], w[i + 1])
                pairCounts[k, default: 0] += freqs[wi]
                whereIs[k, default: []].insert(wi)
            }
        }
        var heap = PairHeap()
        for (k, c) in pairCounts where c > 0 { heap.push(count: c, pair: k) }

        var merges: [(Int32, Int32)] = []
        while tokens.count < vocabSize, let top = heap.pop() {
            let current = pairCounts[top.pair] ?? 0
            if current != top.count { if current > 0 { heap.push(count: current, pair: top.pair) }; continue }
            if current < 1 || current < minFrequency { break }
            let a = Int32(truncatingIfNeeded: top.pair >> 32), b = Int32(truncatingIfNeeded: top.pair & 0xFFFF_FFFF)
            let merged = tokens[Int(a)] + tokens[Int(b)]
            let newId: Int32
            if let existing = ids[merged] { newId = existing } else {
                newId = Int32(tokens.count); ids[merged] = newId; tokens.append(merged)
            }
            merges.append((a, b))
            var touched = Set<UInt64>()
            for wi in (whereIs[top.pair] ?? []).sorted() {
                let f = freqs[wi]
                var w = words[wi]
                var i = 0
                func change(_ k: UInt64, _ d: Int) {
                    pairCounts[k, default: 0] += d
                    if d > 0 { whereIs[k, default: []].insert(wi); touched.insert(k) }
                }
                while i < w.count - 1 {
                    if w[i] == a && w[i + 1] == b {
                        if i > 0 { change(MergeTable.key(w[i - 1], a), -f); change(MergeTable.key(w[i - 1], newId), f) }
                        if i + 2 < w.count { change(MergeTable.key(b, w[i + 2]), -f); change(MergeTable.key(newId, w[i + 2]), f) }
                        w[i] = newId
                        w.remove(at: i + 1)
                    }
                    i += 1
                }
                words[wi] = w
            }
            pairCounts[top.pair] = 0
            whereIs[top.pair] = nil
            for k in touched { if let c = pairCounts[k], c > 0 { heap.push(count: c, pair: k) } }
        }
        return writeJSON(tokens: tokens, merges: merges)
    }

    private func writeJSON(tokens: [String], merges: [(Int32, Int32)]) -> Data {
        var out = #"{"version":"1.0","truncation":null,"padding":null,"added_tokens":["#
        out += specialTokens.enumerated().map { i, s in
            #"{"id":\#(i),"content":\#(jsonQuoted(s)),"single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}"#
        }.joined(separator: ",")
        out += #"],"normalizer":null,"pre_tokenizer":"# + preTokenizerJSON
        out += #","post_processor":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":false,"use_regex":true}"#
        out += #","decoder":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true}"#
        out += #","model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,"ignore_merges":false,"vocab":{"#
        out += tokens.enumerated().map { "\(jsonQuoted($1)):\($0)" }.joined(separator: ",")
        out += #"},"merges":["#
        out += merges.map { "[\(jsonQuoted(tokens[Int($0.0)])),\(jsonQuoted(tokens[Int($0.1)]))]" }.joined(separator: ",")
        out += "]}}\n"
        return Data(out.utf8)
    }
}

/// A max-heap of (count, pair): highest count first, then the smallest pair key (left id, then right id).
struct PairHeap {
    private var items: [(count: Int, pair: UInt64)] = []

    @inline(__always) private func before(_ x: (count: Int, pair: UInt64), _ y: (count: Int, pair: UInt64)) -> Bool {
        x.count != y.count ? x.count > y.count : x.pair < y.pair
    }

    mutating func push(count: Int, pair: UInt64) {
        items.append((count, pair))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if !before(items[i], items[parent]) { break }
            items.swapAt(i, parent); i = parent
        }
    }

    mutating func pop() -> (count: Int, pair: UInt64)? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var best = i
                if l < items.count && before(items[l], items[best]) { best = l }
                if r < items.count && before(items[r], items[best]) { best = r }
                if best == i { break }
                items.swapAt(i, best); i = best
            }
        }
        return top
    }
}
