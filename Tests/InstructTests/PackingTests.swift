// Packing with a tiny test encoder: masks from offsets (a token straddling the boundary is learned), end-of-sequence,
// document boundaries, padding-only mode, truncation, and packed-shard payloads.
import EcomInstruct
import EcomTestSupport
import Testing

/// Splits text into runs of letters/digits and single other characters, but merges ":\n" into one token so that a
/// token straddles EcomGPT's "### Response:" / "\n answer" boundary.
struct TinyEncoder: TokenEncoder {
    var endOfSequenceID: Int { 1 }
    func tokenize(_ text: String) -> (ids: [Int], offsets: [Range<Int>]) {
        let b = Array(text.utf8)
        var ids: [Int] = [], offs: [Range<Int>] = []
        var i = 0
        func isWord(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }
        while i < b.count {
            var j = i + 1
            if isWord(b[i]) { while j < b.count && isWord(b[j]) { j += 1 } } else if b[i] == 58, j < b.count, b[j] == 10 { j += 1 }
            ids.append(10 + b[i..<j].reduce(0) { ($0 &* 31 &+ Int($1)) % 1000 })
            offs.append(i..<j)
            i = j
        }
        return (ids, offs)
    }
}

@Suite struct PackingTests {
    func doc(_ prompt: String, _ response: String) -> RenderedExample {
        RenderedExample(segments: [.init(prompt, isResponse: false), .init(response, isResponse: true)], appendsEndOfSequence: true)
    }

    @Test func maskFromOffsetsWithStraddlingToken() {
        let d = doc("Q: hi\n### Response:", "\nyes ok")
        let (ids, mask) = tokenizeDocument(d, with: TinyEncoder())
        let (_, offs) = TinyEncoder().tokenize(d.text)
        // Tokens: Q, :, " ", hi, \n, #, #, #, " ", Response, ":\n" (straddles), yes, " ", ok, then eos.
        #expect(offs.count == 14)
        #expect(mask == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
        #expect(ids.last == 1)
    }

    @Test func packsWithBoundariesAndPads() {
        var p = Packer(encoder: TinyEncoder(), config: PackingConfig(sequenceLength: 12, padID: 0))
        var seqs: [PackedSequence] = []
        seqs += p.add(doc("a b", " c"))        // a, " ", b, " ", c, eos = 6 tokens
        seqs += p.add(doc("d", " e"))          // d, " ", e, eos = 4 → fits (10)
        seqs += p.add(doc("f g", " h"))        // 6 → does not fit: closes the first sequence
        seqs += p.finish()
        #expect(seqs.count == 2)
        #expect(seqs[0].documentIDs == [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0])
        #expect(seqs[0].lossMask == [0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0])
        #expect(seqs[0].ids[5] == 1 && seqs[0].ids[9] == 1 && seqs[0].ids[10] == 0)
        #expect(seqs[1].documentIDs == [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
        #expect(seqs.allSatisfy { $0.ids.count == 12 && $0.lossMask.count == 12 })
        #expect(p.stats.documents == 3 && p.stats.sequences == 2 && p.stats.paddingTokens == 8)
    }

    @Test func paddingOnlyAndTruncation() {
        var p = Packer(encoder: TinyEncoder(), config: PackingConfig(sequenceLength: 8, padID: 3, paddingOnly: true))
        var seqs = p.add(doc("a", " b")) + p.add(doc("c", " d"))
        #expect(seqs.count == 2 && seqs.allSatisfy { Set($0.documentIDs) == [0, 1] })
        // A document longer than the sequence is truncated; one whose response falls off entirely is dropped.
        seqs = p.add(doc("a b", " c d e f"))
        #expect(seqs.count == 1 && seqs[0].documentIDs.allSatisfy { $0 == 1 })
        #expect(seqs[0].lossMask == [0, 0, 0, 1, 1, 1, 1, 1], "the end-of-sequence token was cut with the tail")
        #expect(p.add(doc("a b c d e f g h i", " z")).isEmpty)
        #expect(p.stats.truncated == 2 && p.stats.droppedNoResponse == 1)
    }

    @Test func payloadRoundTrip() throws {
        let s = PackedSequence(ids: [5, -1, 70000], lossMask: [0, 1, 1], documentIDs: [1, 1, 0])
        let bytes = s.encoded()
        #expect(bytes.count == 4 + 3 * 7)
        #expect(try bytes.withUnsafeBytes { try PackedSequence.decode($0, place: "t") } == s)
        #expect(throws: InstructError.self) { try Array(bytes.dropLast()).withUnsafeBytes { try PackedSequence.decode($0, place: "t") } }
    }
}
