// The byte-level BPE model: vocabulary, ranked merges in a hash table keyed by the pair of ids, and the merge loop.
// Reference: HF tokenizers `models::bpe::{model, word}` (merge the lowest-ranked adjacent pair, leftmost first).
import Foundation

/// Open-addressing hash table from a pair of token ids to (rank, merged id).
struct MergeTable: Sendable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private let mask: Int
    static let empty = UInt64.max

    init(capacityFor count: Int) {
        var cap = 16
        while cap < count * 2 { cap <<= 1 }
        keys = [UInt64](repeating: Self.empty, count: cap)
        values = [UInt64](repeating: 0, count: cap)
        mask = cap - 1
    }

    @inline(__always) static func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b)) }
    @inline(__always) private func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 29) & mask }

    /// Inserts or replaces (a repeated pair keeps its last rank, as HF's map built from the merge list does).
    mutating func insert(_ a: Int32, _ b: Int32, rank: Int32, merged: Int32) {
        let k = Self.key(a, b)
        var s = slot(k)
        while keys[s] != Self.empty && keys[s] != k { s = (s + 1) & mask }
        keys[s] = k
        values[s] = UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(UInt32(bitPattern: merged))
    }

    /// (rank, merged id) packed as rank << 32 | id, or `UInt64.max` when the pair has no merge.
    @inline(__always) func lookup(_ a: Int32, _ b: Int32) -> UInt64 {
        let k = Self.key(a, b)
        return keys.withUnsafeBufferPointer { kp in
            var s = slot(k)
            while true {
                let x = kp[s]
                if x == k { return values.withUnsafeBufferPointer { $0[s] } }
                if x == Self.empty { return UInt64.max }
                s = (s + 1) & mask
            }
        }
    }
}

/// A byte-level BPE model read from the `model` field of tokenizer.json.
struct BPEModel: Sendable {
    /// Token strings by id (byte-level characters); ids not in the vocabulary hold nil.
    let tokens: [String?]
    let vocab: TokenTable
    /// `byteIds[b]`: the id of the single-byte token for byte `b`, or -1.
    let byteIds: [Int32]
    let merges: MergeTable
    let mergeCount: Int
    let unkId: Int32?
    let fuseUnk: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool

    /// The most ids a vocabulary (with its added tokens) may leave unused below its largest id.
    static let maximumUnusedIds = 1 << 20

    init(json: JSONFields) throws {
        let type = try json.optionalString("type") ?? "BPE"
        guard type == "BPE" else { throw TokenizerError.unsupported(field: json.field("type"), value: type) }
        if !json.isNull("dropout") {
            throw TokenizerError.unsupported(field: json.field("dropout"), value: "BPE dropout (only null is supported)")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let s = try json.optionalString(key), !s.isEmpty {
                throw TokenizerError.unsupported(field: json.field(key), value: s)
            }
        }
        let vocabObject: [(key: String, value: Any)]
        if let large = json.object["vocab"] as? JSONReader.LargeObject {
            vocabObject = large.members
        } else if let small = json.object["vocab"] as? [String: Any] {
            vocabObject = small.map { (key: $0.key, value: $0.value) }
        } else {
            throw TokenizerError.malformed(field: json.field("vocab"), reason: "expected an object of token -> id")
        }
        var vocab = TokenTable(capacity: vocabObject.count)
        var maxId = -1
        for (token, value) in vocabObject {
            guard let id = jsonInt(value), id >= 0, id < Int(Int32.max) else {
                throw TokenizerError.malformed(field: json.field("vocab[\(jsonQuoted(token))]"), reason: "expected a non-negative integer id")
            }
            vocab.insert(token, id: Int32(id))
            maxId = max(maxId, id)
        }
        // HF allows holes among the ids; a file whose ids leave a vast gap is not a real vocabulary, and its largest id
        // must not size an allocation.
        guard maxId < vocabObject.count + Self.maximumUnusedIds else {
            throw TokenizerError.malformed(field: json.field("vocab"),
                                           reason: "id \(maxId) among \(vocabObject.count) tokens leaves more than \(Self.maximumUnusedIds) ids unused; ids must be nearly contiguous")
        }
        var tokens = [String?](repeating: nil, count: maxId + 1)
        for (t, value) in vocabObject { tokens[jsonInt(value)!] = t }
        var byteIds = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            if let id = vocab[String(ByteLevelAlphabet.scalars[b])] { byteIds[b] = Int32(id) }
        }
        let mergeList = try json.array("merges")
        var table = MergeTable(capacityFor: mergeList.count)
        for (rank, item) in mergeList.enumerated() {
            let field = json.field("merges[\(rank)]")
            let ids: (Int, Int, Int)?
            if var s = item as? String {
                // "left right": the halves and the merged token looked up by their bytes (no Strings built).
                guard let found = try s.withUTF8({ u -> (Int, Int, Int)? in
                    guard let space = u.firstIndex(of: 0x20), u[(space + 1)...].firstIndex(of: 0x20) == nil else {
                        throw TokenizerError.malformed(field: field, reason: "expected \"left right\", got \(jsonQuoted(String(decoding: u, as: UTF8.self)))")
                    }
                    let left = UnsafeBufferPointer(rebasing: u[..<space]), right = UnsafeBufferPointer(rebasing: u[(space + 1)...])
                    guard let ia = vocab.id(bytes: left), let ib = vocab.id(bytes: right) else { return nil }
                    return vocab.id(concatenating: left, right).map { (ia, ib, $0) }
                }) else {
                    let parts = s.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
                    try Self.missingMerge(parts[0], parts[1], vocab, field)
                }
                ids = found
            } else if let pair = item as? [Any], pair.count == 2, let l = pair[0] as? String, let r = pair[1] as? String {
                guard let ia = vocab[l], let ib = vocab[r], let im = vocab.id(concatenating: l, r) else { try Self.missingMerge(l, r, vocab, field) }
                ids = (ia, ib, im)
            } else {
                throw TokenizerError.malformed(field: field, reason: "expected \"left right\" or [\"left\", \"right\"]")
            }
            guard let (ia, ib, im) = ids else { throw TokenizerError.malformed(field: field, reason: "expected \"left right\"") }
            table.insert(Int32(ia), Int32(ib), rank: Int32(rank), merged: Int32(im))
        }
        var unkId: Int32?
        if let unk = try json.optionalString("unk_token") {
            guard let id = vocab[unk] else { throw TokenizerError.malformed(field: json.field("unk_token"), reason: "\(unk) is not in the vocabulary") }
            unkId = Int32(id)
        }
        self.tokens = tokens
        self.vocab = vocab
        self.byteIds = byteIds
        self.merges = table
        self.mergeCount = mergeList.count
        self.unkId = unkId
        self.fuseUnk = try json.bool("fuse_unk", default: false)
        self.byteFallback = try json.bool("byte_fallback", default: false)
        self.ignoreMerges = try json.bool("ignore_merges", default: false)
    }

    /// The error for a merge whose halves or result are not in the vocabulary.
    static func missingMerge(_ a: String, _ b: String, _ vocab: TokenTable, _ field: String) throws -> Never {
        guard vocab[a] != nil, vocab[b] != nil else {
            throw TokenizerError.malformed(field: field, reason: "token \(jsonQuoted(vocab[a] == nil ? a : b)) is not in the vocabulary")
        }
        throw TokenizerError.malformed(field: field, reason: "merged token \(jsonQuoted(a + b)) is not in the vocabulary")
    }

    /// Encodes one word (raw bytes, already cut by the pre-tokenizer) into `symbols`, which it overwrites.
    ///
    /// The word starts as one symbol per byte (the byte-level character's token). Then, as long as some adjacent
    /// pair has a merge, the pair of lowest rank is merged, the leftmost one when the same pair occurs twice:
    /// this is the order in which HF's priority queue (ordered by rank, then position) applies merges.
    func encodeWord(_ word: UnsafeBufferPointer<UInt8>, _ symbols: inout [Int32], _ ranks: inout [UInt64]) {
        symbols.removeAll(keepingCapacity: true)
        if ignoreMerges, let id = vocab[ByteLevelAlphabet.encode(word)] {
            symbols.append(Int32(id))
            return
        }
        for b in word {
            let id = byteIds[Int(b)]
            if id >= 0 {
                symbols.append(id)
            } else {
                appendMissing(b, &symbols)
            }
        }
        let n = symbols.count
        if n < 2 { return }
        ranks.removeAll(keepingCapacity: true)
        symbols.withUnsafeMutableBufferPointer { s in
            for i in 0..<(n - 1) { ranks.append(merges.lookup(s[i], s[i + 1])) }
        }
        var count = n
        ranks.withUnsafeMutableBufferPointer { r in
            symbols.withUnsafeMutableBufferPointer { s in
                while count > 1 {
                    var best = UInt64.max
                    var at = -1
                    for i in 0..<(count - 1) where r[i] < best { best = r[i]; at = i }
                    if at < 0 { break }
                    s[at] = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
                    // Remove symbol at+1 and the pair rank at `at`, then refresh the two pairs around the new symbol.
                    var i = at + 1
                    while i < count - 1 { s[i] = s[i + 1]; i += 1 }
                    i = at
                    while i < count - 2 { r[i] = r[i + 1]; i += 1 }
                    count -= 1
                    if at > 0 { r[at - 1] = merges.lookup(s[at - 1], s[at]) }
                    if at < count - 1 { r[at] = merges.lookup(s[at], s[at + 1]) }
                }
            }
        }
        symbols.removeLast(n - count)
    }

    /// A byte without a token: byte fallback (`<0xAB>` for each UTF-8 byte of its character), else the
    /// unknown token (fused with a preceding one when `fuse_unk`), else dropped, as HF does.
    private func appendMissing(_ b: UInt8, _ symbols: inout [Int32]) {
        let char = String(ByteLevelAlphabet.scalars[Int(b)])
        if byteFallback {
            let ids = char.utf8.map { vocab[String(format: "<0x%02X>", $0)] }
            if ids.allSatisfy({ $0 != nil }) {
                symbols.append(contentsOf: ids.map { Int32($0!) })
                return
            }
        }
        guard let unk = unkId else { return }
        if fuseUnk, symbols.last == unk { return }
        symbols.append(unk)
    }
}
