// The tokenizer: loads HF tokenizer.json (byte-level BPE) and encodes (added tokens, normalizer, pre-tokenizer,
// BPE, post-processor) and decodes exactly as HF tokenizers does. Reference: HF tokenizers `tokenizer::mod`.
import Dispatch
import Foundation

/// The result of encoding one text: ids and, for each, the UTF-8 byte range of the input it covers.
public struct Encoding: Sendable, Equatable {
    public var ids: [Int]
    /// UTF-8 byte ranges in the input string, one per id (special tokens added by the post-processor get `0..<0`).
    public var offsets: [Range<Int>]

    public init(ids: [Int], offsets: [Range<Int>]) {
        self.ids = ids
        self.offsets = offsets
    }
}

/// A byte-level BPE tokenizer read from HF `tokenizer.json` (BLOOM's and GPT-2's kind).
///
/// ```swift
/// let tok = try Tokenizer(contentsOf: URL(fileURLWithPath: "tokenizer.json"))
/// let ids = tok.encode("Hello world")          // same ids as HF tokenizers
/// tok.decode(ids) == "Hello world"              // true
/// ```
/// Thread-safe: one instance may encode from many threads; each thread borrows its own scratch state and word cache.
public final class Tokenizer: Sendable {
    let model: BPEModel
    let normalizer: Normalizer
    let preTokenizer: PreTokenizer
    let added: AddedVocabulary
    let post: PostProcessor
    let decoderKind: DecoderKind
    /// Token strings by id, added tokens included.
    let tokenStrings: [String?]
    /// Decoded bytes of every id (ByteLevel decoder) in one arena: `decoded[decodedStart[id]..<decodedStart[id+1]]`.
    let decoded: [UInt8]
    let decodedStart: [Int]
    /// Whether an id's token is a special added token (by content, as HF checks).
    let isSpecial: [Bool]
    private let pool = StatePool()

    /// Loads a tokenizer.json file; errors name the file and the field at fault.
    public convenience init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        do { try self.init(json: data) } catch let e as TokenizerError {
            switch e {
            case let .malformed(field, reason): throw TokenizerError.malformed(field: "\(url.path): \(field)", reason: reason)
            case let .unsupported(field, value): throw TokenizerError.unsupported(field: "\(url.path): \(field)", value: value)
            default: throw e
            }
        }
    }

    /// Parses the contents of a tokenizer.json file.
    public init(json data: Data) throws {
        let any: Any
        do { any = try JSONReader.parse(data) } catch {
            throw TokenizerError.malformed(field: "(document)", reason: "not JSON: \(error)")
        }
        let root = try JSONFields(any, path: "")
        for key in ["truncation", "padding"] where !root.isNull(key) {
            throw TokenizerError.unsupported(field: key, value: "only null is supported (truncate or pad after encoding)")
        }
        // The model first: a file of another model type is reported as such, not by a later stage's mismatch.
        model = try BPEModel(json: root.object("model"))
        normalizer = try Normalizer(json: root.optionalObject("normalizer"))
        preTokenizer = try PreTokenizer(json: root.optionalObject("pre_tokenizer"))
        added = try AddedVocabulary(json: root.isNull("added_tokens") ? [] : root.array("added_tokens"), normalizer: normalizer)
        post = try PostProcessor(json: root.optionalObject("post_processor"))
        decoderKind = try DecoderKind(json: root.optionalObject("decoder"))

        var strings = model.tokens
        let maxAdded = added.tokens.map { $0.id }.max() ?? -1
        guard maxAdded < strings.count + added.tokens.count + BPEModel.maximumUnusedIds else {
            throw TokenizerError.malformed(field: "added_tokens",
                                           reason: "id \(maxAdded) leaves more than \(BPEModel.maximumUnusedIds) ids unused after the \(strings.count) of the model; ids must be nearly contiguous")
        }
        if maxAdded >= strings.count { strings += [String?](repeating: nil, count: maxAdded + 1 - strings.count) }
        for t in added.tokens { strings[t.id] = t.content }
        tokenStrings = strings
        // HF decodes a normalized added token as its normalized content.
        var decodable = strings
        for t in added.tokens where t.normalized { decodable[t.id] = normalizer.normalize(t.content) }
        let specialContents = Set(added.tokens.filter { $0.special }.map { $0.content })
        isSpecial = strings.map { $0.map { specialContents.contains($0) } ?? false }
        var arena: [UInt8] = []
        var starts: [Int] = [0]
        starts.reserveCapacity(strings.count + 1)
        for s in decodable {
            if let s { arena += ByteLevelAlphabet.decode(s) }
            starts.append(arena.count)
        }
        decoded = arena
        decodedStart = starts
    }

    /// Number of ids (model vocabulary and added tokens).
    public var vocabularySize: Int { tokenStrings.count }

    /// The id of a token string (added tokens first, then the model's vocabulary), as HF's `token_to_id`.
    public func id(forToken token: String) -> Int? {
        added.byContent[token] ?? model.vocab[token]
    }

    /// The token string of an id (byte-level characters for model tokens), as HF's `id_to_token`.
    public func token(forId id: Int) -> String? {
        id >= 0 && id < tokenStrings.count ? tokenStrings[id] : nil
    }

    /// Whether `id` is a special added token.
    public func isSpecialToken(_ id: Int) -> Bool { id >= 0 && id < isSpecial.count && isSpecial[id] }

    /// Encodes a text into ids. Without `addSpecialTokens` no post-processor tokens are added (HF's
    /// `add_special_tokens=False`); special tokens written in the text are still recognised.
    public func encode(_ text: String, addSpecialTokens: Bool = false) -> [Int] {
        let state = pool.take()
        defer { pool.put(state) }
        var ids: [Int] = []
        var unused: [Range<Int>] = []
        run(text, state, addSpecialTokens, &ids, &unused, wantOffsets: false)
        return ids
    }

    /// Encodes a text into ids with the UTF-8 byte range of each token in `text`.
    public func encodeWithOffsets(_ text: String, addSpecialTokens: Bool = false) -> Encoding {
        let state = pool.take()
        defer { pool.put(state) }
        var ids: [Int] = []
        var offsets: [Range<Int>] = []
        run(text, state, addSpecialTokens, &ids, &offsets, wantOffsets: true)
        return Encoding(ids: ids, offsets: offsets)
    }

    /// Encodes many texts on all cores; results are in input order.
    public func encodeBatch(_ texts: [String], addSpecialTokens: Bool = false) -> [[Int]] {
        encodeBatch(texts, addSpecialTokens: addSpecialTokens, threads: ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Encodes many texts on `threads` threads (1: the calling thread only).
    public func encodeBatch(_ texts: [String], addSpecialTokens: Bool = false, threads: Int) -> [[Int]] {
        var results = [[Int]](repeating: [], count: texts.count)
        let n = texts.count
        if threads <= 1 || n < 2 {
            let state = pool.take()
            defer { pool.put(state) }
            var unused: [Range<Int>] = []
            for i in 0..<n { run(texts[i], state, addSpecialTokens, &results[i], &unused, wantOffsets: false) }
            return results
        }
        let chunks = min(n, threads * 16)
        results.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let state = pool.take()
                defer { pool.put(state) }
                var unused: [Range<Int>] = []
                // Contiguous blocks keep each worker's word cache warm on similar text.
                let lo = c * n / chunks, hi = (c + 1) * n / chunks
                for i in lo..<hi { run(texts[i], state, addSpecialTokens, &out[i], &unused, wantOffsets: false) }
            }
        }
        return results
    }

    /// Decodes ids to text as HF's `decode`: unknown ids are skipped, special tokens dropped when asked, then the
    /// ByteLevel decoder maps characters back to bytes and reads them as UTF-8, replacing invalid sequences by U+FFFD.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        switch decoderKind {
        case .byteLevel:
            var bytes: [UInt8] = []
            bytes.reserveCapacity(ids.count * 4)
            decoded.withUnsafeBufferPointer { d in
                for id in ids where id >= 0 && id < tokenStrings.count && tokenStrings[id] != nil {
                    if skipSpecialTokens && isSpecial[id] { continue }
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: d[decodedStart[id]..<decodedStart[id + 1]]))
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        case .none:
            return ids.compactMap { id -> String? in
                guard let t = token(forId: id), !(skipSpecialTokens && isSpecial[id]) else { return nil }
                return t
            }.joined(separator: " ")
        }
    }

    // MARK: - Encoding pipeline

    private func run(_ text: String, _ state: EncoderState, _ addSpecial: Bool, _ ids: inout [Int],
                     _ offsets: inout [Range<Int>], wantOffsets: Bool) {
        if addSpecial {
            ids.append(contentsOf: post.prefix)
            if wantOffsets { offsets.append(contentsOf: repeatElement(0..<0, count: post.prefix.count)) }
        }
        let first = ids.count
        var text = text
        text.withUTF8 { p in encodeText(p, state, &ids, &offsets, wantOffsets) }
        if wantOffsets && post.trimOffsets { trimOffsets(ids, first, &offsets) }
        if addSpecial {
            ids.append(contentsOf: post.suffix)
            if wantOffsets { offsets.append(contentsOf: repeatElement(0..<0, count: post.suffix.count)) }
        }
    }

    private func encodeText(_ p: UnsafeBufferPointer<UInt8>, _ state: EncoderState, _ ids: inout [Int],
                            _ offsets: inout [Range<Int>], _ wantOffsets: Bool) {
        if p.isEmpty { return }
        var segments: [(Range<Int>, Int?)] = []
        added.split(p, 0..<p.count, with: added.raw, into: &segments)
        for (range, tokenId) in segments {
            if let tokenId {
                ids.append(tokenId)
                if wantOffsets { offsets.append(range) }
                continue
            }
            if normalizer.isIdentity {
                state.inner.removeAll(keepingCapacity: true)
                added.split(p, range, with: added.normalized, into: &state.inner)
                for (r, innerId) in state.inner {
                    if let innerId {
                        ids.append(innerId)
                        if wantOffsets { offsets.append(r) }
                    } else {
                        encodePlain(p, r, nil, state, &ids, &offsets, wantOffsets)
                    }
                }
            } else {
                let (bytes, origin) = normalizer.normalize(p, range)
                var inner: [(Range<Int>, Int?)] = []
                bytes.withUnsafeBufferPointer { q in
                    added.split(q, 0..<q.count, with: added.normalized, into: &inner)
                    for (r, innerId) in inner {
                        if let innerId {
                            ids.append(innerId)
                            if wantOffsets { offsets.append(origin[r.lowerBound].lowerBound..<origin[r.upperBound - 1].upperBound) }
                        } else {
                            encodePlain(q, r, origin, state, &ids, &offsets, wantOffsets)
                        }
                    }
                }
            }
        }
    }

    /// Pre-tokenizes `q[range]` and runs BPE on each piece, through the word cache.
    private func encodePlain(_ q: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ origin: [Range<Int>]?,
                             _ state: EncoderState, _ ids: inout [Int], _ offsets: inout [Range<Int>], _ wantOffsets: Bool) {
        state.pieces.removeAll(keepingCapacity: true)
        preTokenizer.run(q, Piece(start: range.lowerBound, end: range.upperBound), &state.scratch, &state.pieces)
        for piece in state.pieces {
            let before = ids.count
            if piece.prefixSpace {
                state.word.removeAll(keepingCapacity: true)
                state.word.append(0x20)
                state.word.append(contentsOf: UnsafeBufferPointer(rebasing: q[piece.start..<piece.end]))
                state.word.withUnsafeBufferPointer { w in encodeWord(w, state, &ids) }
            } else {
                encodeWord(UnsafeBufferPointer(rebasing: q[piece.start..<piece.end]), state, &ids)
            }
            if wantOffsets { appendOffsets(q, piece, origin, ids[before...], &offsets) }
        }
    }

    @inline(__always) private func encodeWord(_ w: UnsafeBufferPointer<UInt8>, _ state: EncoderState, _ ids: inout [Int]) {
        let h = WordCache.hash(w, seed: 0)
        if state.cache.lookup(w, hash: h, into: &ids) { return }
        model.encodeWord(w, &state.symbols, &state.ranks)
        for s in state.symbols { ids.append(Int(s)) }
        state.cache.insert(w, hash: h, ids: state.symbols)
    }

    /// Offsets of the tokens of one piece: each token's bytes, widened to whole characters (HF aligns every
    /// byte-level character to the character it came from); a prefix space belongs to the piece's first character.
    private func appendOffsets(_ q: UnsafeBufferPointer<UInt8>, _ piece: Piece, _ origin: [Range<Int>]?,
                               _ newIds: ArraySlice<Int>, _ offsets: inout [Range<Int>]) {
        let shift = piece.prefixSpace ? 1 : 0
        let unk = model.unkId.map(Int.init)
        var w = 0
        for id in newIds {
            var length = id < decodedStart.count - 1 ? decodedStart[id + 1] - decodedStart[id] : 1
            if id == unk {
                // The unknown token stands for one byte without a token, or (fused) for the run of them from here.
                length = 1
                if model.fuseUnk {
                    while piece.start + w + length - shift < piece.end && model.byteIds[Int(q[piece.start + w + length - shift])] < 0 { length += 1 }
                }
            }
            // Clamped to the piece, so that bytes dropped without a token (no unknown token) cannot move past it.
            var s = min(max(piece.start, piece.start + w - shift), max(piece.start, piece.end - 1))
            var e = min(piece.end, max(piece.start + w + length - shift, s + 1))
            if piece.prefixSpace && w == 0 { e = max(e, piece.spaceEnd) }
            w += length
            while s > piece.start && q[s] & 0xC0 == 0x80 { s -= 1 }
            while e < piece.end && q[e] & 0xC0 == 0x80 { e += 1 }
            if let origin { offsets.append(origin[s].lowerBound..<origin[e - 1].upperBound) } else { offsets.append(s..<e) }
        }
    }

    /// ByteLevel post-processing of offsets: leading and trailing spaces (`Ġ` or white space) of a token are
    /// dropped from its offsets, except a single leading space of the first token when `add_prefix_space`.
    private func trimOffsets(_ ids: [Int], _ first: Int, _ offsets: inout [Range<Int>]) {
        for i in first..<ids.count {
            guard let token = token(forId: ids[i]) else { continue }
            let scalars = Array(token.unicodeScalars)
            func isSpace(_ s: Unicode.Scalar) -> Bool { s == "\u{0120}" || s.properties.isWhitespace }
            var leading = scalars.prefix { isSpace($0) }.count
            let trailing = scalars.reversed().prefix { isSpace($0) }.count
            var r = offsets[i]
            if leading > 0 {
                if (i == first || r.lowerBound == 0) && post.trimKeepsPrefixSpace && leading == 1 { leading = 0 }
                r = min(r.lowerBound + leading, r.upperBound)..<r.upperBound
            }
            if trailing > 0 && r.upperBound >= trailing {
                r = r.lowerBound..<max(r.upperBound - trailing, r.lowerBound)
            }
            offsets[i] = r
        }
    }
}

/// Scratch buffers and the word cache of one encoding thread.
final class EncoderState {
    var cache = WordCache()
    var symbols: [Int32] = []
    var ranks: [UInt64] = []
    var pieces: [Piece] = []
    var inner: [(Range<Int>, Int?)] = []
    var scratch = PreTokenizerScratch()
    var word: [UInt8] = []
}

/// Encoder states lent to threads; a state is used by one thread at a time.
final class StatePool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [EncoderState] = []

    func take() -> EncoderState {
        lock.lock()
        defer { lock.unlock() }
        return free.popLast() ?? EncoderState()
    }

    func put(_ state: EncoderState) {
        lock.lock()
        free.append(state)
        lock.unlock()
    }
}
