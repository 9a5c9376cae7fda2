// Added and special tokens: matched in the text before pre-tokenization (leftmost-longest), with their
// lstrip/rstrip/single_word/normalized flags. Reference: HF tokenizers `tokenizer::added_vocabulary`.

/// A token from the `added_tokens` list of tokenizer.json.
struct AddedToken: Sendable {
    let id: Int
    let content: String
    let special: Bool
    let singleWord: Bool
    let lstrip: Bool
    let rstrip: Bool
    let normalized: Bool

    init(json: JSONFields) throws {
        id = try json.int("id")
        guard id >= 0, id < Int(Int32.max) else { throw TokenizerError.malformed(field: json.field("id"), reason: "expected a non-negative integer id, got \(id)") }
        content = try json.string("content")
        special = try json.bool("special", default: false)
        singleWord = try json.bool("single_word", default: false)
        lstrip = try json.bool("lstrip", default: false)
        rstrip = try json.bool("rstrip", default: false)
        normalized = try json.bool("normalized", default: !special)
        if content.isEmpty { throw TokenizerError.malformed(field: json.field("content"), reason: "empty token") }
    }
}

/// Finds the leftmost-longest occurrences of a set of tokens (HF uses Aho-Corasick with LeftmostLongest).
struct TokenMatcher: Sendable {
    /// Candidates by first byte: (bytes, index into the token list), longest first.
    private let byFirstByte: [[([UInt8], Int)]]
    let isEmpty: Bool

    init(_ patterns: [([UInt8], Int)]) {
        var table = [[([UInt8], Int)]](repeating: [], count: 256)
        for (bytes, index) in patterns where !bytes.isEmpty { table[Int(bytes[0])].append((bytes, index)) }
        for b in 0..<256 { table[b].sort { $0.0.count > $1.0.count } }
        byFirstByte = table
        isEmpty = patterns.isEmpty
    }

    /// The first match at or after `from` and before `end`: (range, token index).
    func next(_ p: UnsafeBufferPointer<UInt8>, from: Int, end: Int) -> (Range<Int>, Int)? {
        var i = from
        while i < end {
            for (bytes, index) in byFirstByte[Int(p[i])] where i + bytes.count <= end {
                var ok = true
                for k in 1..<bytes.count where p[i + k] != bytes[k] { ok = false; break }
                if ok { return (i..<(i + bytes.count), index) }
            }
            i += 1
        }
        return nil
    }
}

/// The added tokens of a tokenizer and the two matchers HF uses: one for tokens matched in the raw text
/// (`normalized: false`), one for tokens matched in the normalized text.
struct AddedVocabulary: Sendable {
    let tokens: [AddedToken]
    let byId: [Int: Int]
    let byContent: [String: Int]
    let specialIds: Set<Int>
    let raw: TokenMatcher
    let normalized: TokenMatcher

    init(json: [Any], normalizer: Normalizer) throws {
        var tokens: [AddedToken] = []
        for (i, item) in json.enumerated() { tokens.append(try AddedToken(json: JSONFields(item, path: "added_tokens[\(i)]"))) }
        self.tokens = tokens
        var byId: [Int: Int] = [:], byContent: [String: Int] = [:]
        for (i, t) in tokens.enumerated() { byId[t.id] = i; byContent[t.content] = t.id }
        self.byId = byId
        self.byContent = byContent
        specialIds = Set(tokens.filter { $0.special }.map { $0.id })
        raw = TokenMatcher(tokens.enumerated().filter { !$0.element.normalized }.map { (Array($0.element.content.utf8), $0.offset) })
        normalized = TokenMatcher(tokens.enumerated().filter { $0.element.normalized }.map {
            (Array(normalizer.normalize($0.element.content).utf8), $0.offset)
        })
    }

    /// Cuts `p[range]` into segments: (byte range, added token id or nil for plain text), as HF's
    /// `find_matches` does, including single_word rejection and lstrip/rstrip widening over white space (the
    /// white space is swallowed, but an added token's range is that of its own text, as HF's offsets are).
    func split(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, with matcher: TokenMatcher,
               into out: inout [(Range<Int>, Int?)]) {
        if matcher.isEmpty {
            if !range.isEmpty { out.append((range, nil)) }
            return
        }
        var startOffset = range.lowerBound
        var searchFrom = range.lowerBound
        while let (m, index) = matcher.next(p, from: searchFrom, end: range.upperBound) {
            searchFrom = m.upperBound
            let token = tokens[index]
            var start = m.lowerBound, stop = m.upperBound
            if token.singleWord {
                let startSpace = start == range.lowerBound || !isWordBefore(p, start, range.lowerBound)
                let stopSpace = stop == range.upperBound || !isWordAt(p, stop)
                if !startSpace || !stopSpace { continue }
            }
            if token.lstrip {
                var s = start
                while s > range.lowerBound {
                    let (v, vs) = scalarBefore(p, s)
                    guard vs >= range.lowerBound, ScalarClass.of(v).contains(.whitespace) else { break }
                    s = vs
                }
                start = max(s, startOffset)
            }
            if token.rstrip {
                while stop < range.upperBound {
                    let (v, l) = decodeScalar(p, stop)
                    guard ScalarClass.of(v).contains(.whitespace) else { break }
                    stop += l
                }
            }
            if start > startOffset { out.append((startOffset..<start, nil)) }
            out.append((max(m.lowerBound, startOffset)..<m.upperBound, token.id))
            startOffset = stop
            searchFrom = max(searchFrom, stop)
        }
        if startOffset < range.upperBound { out.append((startOffset..<range.upperBound, nil)) }
    }

    private func isWordBefore(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ lower: Int) -> Bool {
        let (v, s) = scalarBefore(p, i)
        return s >= lower && ScalarClass.of(v).contains(.word)
    }

    private func isWordAt(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        ScalarClass.of(decodeScalar(p, i).value).contains(.word)
    }
}
