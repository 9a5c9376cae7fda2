// Chunking with a real byte-level BPE tokenizer (the tokenizer library's small GPT-2-style fixture): every chunk within
// the limit, a substring of the passage, and together covering every non-space character once, in order.
import EcomTestSupport
import EcomTokenizer
import Foundation
import Testing
@testable import EcomDistill

@Suite struct ChunkerTests {
    let tokenizer: Tokenizer

    init() throws { tokenizer = try Tokenizer(contentsOf: TestPaths.fixture("tokenizer/gpt2_small.json")) }

    static let english = """
        The Trailwise 40L backpack is waterproof and light. It has a padded hip belt, a rain cover tucked into the base \
        and side pockets that hold a one-litre bottle. Reviewers in Denver and Seattle praised the zips; one in \
        Edinburgh said the straps rubbed after a long day on the West Highland Way. Brewell's coffee maker, sold next to \
        it, brews twelve cups and switches its warming plate off after two hours.
        Kitebird earbuds last 28 hours with the case.
        """

    /// Checks the invariants and returns the chunks.
    @discardableResult
    func check(_ text: String, max: Int, sourceLocation: SourceLocation = #_sourceLocation) -> [PassageChunk] {
        let chunks = PassageChunker(tokenizer: tokenizer, maxTokens: max).chunks(text)
        let bytes = Array(text.utf8)
        var previousEnd = 0
        for c in chunks {
            #expect(tokenizer.encode(c.text).count <= max, "chunk over \(max) tokens: \(c.text)", sourceLocation: sourceLocation)
            #expect(String(decoding: bytes[c.utf8Range], as: UTF8.self) == c.text, sourceLocation: sourceLocation)
            #expect(c.utf8Range.lowerBound >= previousEnd, sourceLocation: sourceLocation)
            #expect(!c.text.isEmpty && c.text.first?.isWhitespace == false && c.text.last?.isWhitespace == false,
                    sourceLocation: sourceLocation)
            previousEnd = c.utf8Range.upperBound
        }
        // Between and around chunks there is only white space.
        var covered = [Bool](repeating: false, count: bytes.count)
        for c in chunks { for i in c.utf8Range { covered[i] = true } }
        let outside = String(decoding: bytes.indices.filter { !covered[$0] }.map { bytes[$0] }, as: UTF8.self)
        #expect(outside.allSatisfy { $0.isWhitespace }, "text left out: \(outside)", sourceLocation: sourceLocation)
        return chunks
    }

    @Test func shortTextIsOneChunk() {
        let c = check("  Paris is in France.\n", max: 256)
        #expect(c == [PassageChunk(text: "Paris is in France.", utf8Range: 2..<21)])
        #expect(check(" \n\t ", max: 16).isEmpty)
    }

    @Test(arguments: [8, 16, 33, 256])
    func longTextStaysWithinTheLimit(max: Int) {
        let text = Array(repeating: Self.english, count: 6).joined(separator: "\n\n")
        let chunks = check(text, max: max)
        let total = tokenizer.encode(text).count
        #expect(max < total ? chunks.count > 1 : chunks.count == 1)
    }

    @Test func cutsFallAtWhiteSpace() {
        let chunks = check(Self.english, max: 16)
        let bytes = Array(Self.english.utf8)
        #expect(chunks.count > 3)
        // Words here are far shorter than 16 tokens, so no chunk ends inside a word.
        for c in chunks.dropLast() {
            let next = bytes[c.utf8Range.upperBound]
            #expect(next == 0x20 || next == 0x0A, "cut inside a word after: \(c.text)")
        }
    }

    @Test func aWordLongerThanTheLimitIsCut() {
        let word = String(repeating: "antidisestablishmentarianism", count: 12)
        let chunks = check("Start " + word + " end.", max: 10)
        #expect(chunks.count > 2)
    }

    @Test func textWithoutSpacesAndMultiByteCharacters() {
        // Chinese: no spaces; byte-level tokens may split characters, chunks must not.
        let zh = String(repeating: "这款登山包防水轻便，腰带有衬垫，底部藏有防雨罩。", count: 8)
        let chunks = check(zh, max: 12)
        #expect(chunks.count > 2)
        #expect(chunks.map(\.text).joined() == zh)
        let mixed = "Emoji 😀😀😀😀😀😀😀😀😀😀 and café crème brûlée à la carte " + String(repeating: "é", count: 40)
        check(mixed, max: 4)
    }

    @Test func aLimitOfOneToken() {
        let chunks = check("ab cd, ef!", max: 1)
        #expect(chunks.count >= 4)
    }
}
