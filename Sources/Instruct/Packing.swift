// Packing rendered records into fixed-length token sequences with per-token loss masks and document boundaries.
//
// Masks come from token offsets: the whole text is tokenized once, and a token is learned when its UTF-8 byte range
// overlaps a response segment's range, so a token straddling the prompt/response boundary counts as response. The
// marker is never tokenized on its own (in context a merge can cross the boundary, and a separate tokenization of the
// marker would then put the boundary one token off).
import Foundation

/// A tokenizer as packing needs it. `EcomTokenizer.Tokenizer` conforms through an extension in the tool.
public protocol TokenEncoder {
    /// Token ids of `text` (no special tokens added) and each token's UTF-8 byte range in `text`.
    func tokenize(_ text: String) -> (ids: [Int], offsets: [Range<Int>])
    /// The end-of-sequence token appended (learned) after a document.
    var endOfSequenceID: Int { get }
}

/// One fixed-length training sequence.
public struct PackedSequence: Sendable, Equatable {
    /// Token ids [seqLen].
    public var ids: [Int32]
    /// 1 where the token is learned (a response token or the end-of-sequence token), 0 for prompt and padding [seqLen].
    public var lossMask: [UInt8]
    /// The document each token belongs to, numbered from 1 within the sequence; 0 for padding [seqLen].
    /// Attention stays within a document where document ids are equal.
    public var documentIDs: [UInt16]

    public init(ids: [Int32], lossMask: [UInt8], documentIDs: [UInt16]) {
        self.ids = ids; self.lossMask = lossMask; self.documentIDs = documentIDs
    }

    /// The payload stored in a packed shard: n u32, then ids i32 × n, mask u8 × n, document ids u16 × n (little-endian).
    public func encoded() -> [UInt8] {
        var b: [UInt8] = []
        b.reserveCapacity(4 + ids.count * 7)
        b.appendLE(UInt32(ids.count))
        for x in ids { b.appendLE(x) }
        b += lossMask
        for d in documentIDs { b.appendLE(d) }
        return b
    }

    public static func decode(_ p: UnsafeRawBufferPointer, place: String) throws -> PackedSequence {
        guard p.count >= 4 else { throw InstructError("\(place): packed sequence shorter than its length field") }
        let n = Int(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
        guard p.count == 4 + n * 7 else { throw InstructError("\(place): packed sequence of \(p.count) bytes, expected \(4 + n * 7) for \(n) tokens") }
        let ids = (0..<n).map { Int32(littleEndian: p.loadUnaligned(fromByteOffset: 4 + 4 * $0, as: Int32.self)) }
        let mask = Array(p[(4 + 4 * n)..<(4 + 5 * n)])
        let docs = (0..<n).map { UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 4 + 5 * n + 2 * $0, as: UInt16.self)) }
        return PackedSequence(ids: ids, lossMask: mask, documentIDs: docs)
    }
}

public struct PackingConfig: Sendable {
    public var sequenceLength: Int
    /// The id used for padding (masked; document id 0).
    public var padID: Int
    /// One document per sequence, padded, instead of packing several.
    public var paddingOnly: Bool
    public init(sequenceLength: Int, padID: Int, paddingOnly: Bool = false) {
        self.sequenceLength = sequenceLength; self.padID = padID; self.paddingOnly = paddingOnly
    }
}

public struct PackingStats: Codable, Sendable, Equatable {
    public var documents = 0
    public var sequences = 0
    public var truncated = 0
    public var droppedNoResponse = 0
    public var tokens = 0
    public var learnedTokens = 0
    public var paddingTokens = 0
}

/// Tokens and loss mask of one rendered document.
public func tokenizeDocument(_ doc: RenderedExample, with encoder: TokenEncoder) -> (ids: [Int], mask: [UInt8]) {
    let (ids, offsets) = encoder.tokenize(doc.text)
    let ranges = doc.responseByteRanges
    var mask = [UInt8](repeating: 0, count: ids.count)
    for (i, o) in offsets.enumerated() {
        let learned = ranges.contains { r in
            o.isEmpty ? (o.lowerBound >= r.lowerBound && o.lowerBound < r.upperBound)
                      : (o.lowerBound < r.upperBound && o.upperBound > r.lowerBound)
        }
        mask[i] = learned ? 1 : 0
    }
    if doc.appendsEndOfSequence { return (ids + [encoder.endOfSequenceID], mask + [1]) }
    return (ids, mask)
}

/// Greedy packing in input order: a document joins the current sequence when it fits, otherwise the sequence is padded
/// and a new one starts. Documents longer than the sequence are truncated; those left with no learned token are dropped.
public struct Packer {
    public let encoder: TokenEncoder
    public let config: PackingConfig
    public private(set) var stats = PackingStats()
    private var ids: [Int32] = []
    private var mask: [UInt8] = []
    private var docs: [UInt16] = []
    private var docCount: UInt16 = 0

    public init(encoder: TokenEncoder, config: PackingConfig) {
        precondition(config.sequenceLength > 0, "sequence length must be positive")
        self.encoder = encoder; self.config = config
    }

    /// Adds a document; returns the sequences it completed.
    public mutating func add(_ doc: RenderedExample) -> [PackedSequence] {
        var (dIDs, dMask) = tokenizeDocument(doc, with: encoder)
        let L = config.sequenceLength
        if dIDs.count > L { dIDs.removeLast(dIDs.count - L); dMask.removeLast(dMask.count - L); stats.truncated += 1 }
        guard dMask.contains(1) else { stats.droppedNoResponse += 1; return [] }
        var done: [PackedSequence] = []
        if !ids.isEmpty && (config.paddingOnly || ids.count + dIDs.count > L || docCount == UInt16.max) {
            done.append(close())
        }
        docCount += 1
        ids += dIDs.map { Int32($0) }
        mask += dMask
        docs += Array(repeating: docCount, count: dIDs.count)
        stats.documents += 1
        stats.tokens += dIDs.count
        stats.learnedTokens += dMask.reduce(0) { $0 + Int($1) }
        if config.paddingOnly || ids.count == L { done.append(close()) }
        return done
    }

    /// Pads and returns the last sequence, if any.
    public mutating func finish() -> [PackedSequence] { ids.isEmpty ? [] : [close()] }

    private mutating func close() -> PackedSequence {
        let pad = config.sequenceLength - ids.count
        stats.paddingTokens += pad
        stats.sequences += 1
        let s = PackedSequence(ids: ids + Array(repeating: Int32(config.padID), count: pad),
                               lossMask: mask + Array(repeating: 0, count: pad),
                               documentIDs: docs + Array(repeating: 0, count: pad))
        ids = []; mask = []; docs = []; docCount = 0
        return s
    }
}
