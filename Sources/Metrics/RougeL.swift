// Rouge-L in three flavours: the `rouge` PyPI package 1.0.1 (EcomGPT's metric: rouge/rouge_score.py
// rouge_l_summary_level), Google's `rouge-score` 0.1.2 rougeL / rougeLsum (rouge_scorer.py, default tokenizer, no
// stemmer), and our CJK-aware Rouge-L. Tokens are interned to integer ids; the LCS runs on UnsafeBuffers.

/// Precision, recall and F of one Rouge-L comparison (or their average).
public struct RougeScore: Sendable, Equatable, Codable {
    public var f: Double
    public var p: Double
    public var r: Double
    public init(f: Double, p: Double, r: Double) { self.f = f; self.p = p; self.r = r }
}

/// Which Rouge-L is computed.
public enum RougeFlavor: String, Sendable, CaseIterable {
    /// The `rouge` package (EcomGPT's numbers): sentences split on ".", white-space tokens, summary-level union LCS
    /// over *sets* of tokens, F = 2PR/(P+R+1e-8).
    case rouge
    /// Google's `rouge-score` rougeL: lower-cased ASCII alphanumeric tokens, one LCS over the whole text.
    case rougeScore = "rouge-score"
    /// Google's `rouge-score` rougeLsum: lines ("\n") as sentences, summary-level union LCS with token counts.
    case rougeLsum = "rouge-lsum"
    /// Ours (not a paper metric): each CJK character one token, other text white-space words, one LCS.
    case cjk
}

/// What to do when the `rouge` package would refuse a hypothesis (no text between the dots: "", "...").
public enum EmptyHypothesisPolicy: String, Sendable {
    /// Throw, as the package does.
    case raise
    /// Score the string "error" instead, as EcomGPT's evaluation code does for empty answers.
    case substituteError = "substitute"
}

/// The `rouge` package refuses an input with no sentence.
public struct RougeInputError: Error, CustomStringConvertible, Sendable {
    public let index: Int?
    public let which: String
    public var description: String {
        "rouge: the \(which) \(index.map { "of example \($0) " } ?? "")has no sentence (empty or only '.'); "
            + "the `rouge` package refuses it"
    }
}

/// A reusable Rouge-L scorer (not thread-safe: it keeps its token table and LCS workspace between calls).
public final class RougeL {
    public let flavor: RougeFlavor
    public let emptyHypothesis: EmptyHypothesisPolicy
    private var interner = TokenInterner()
    private let lcs = LCSWorkspace()
    // Token ids of the two sides, with sentence boundaries (end offsets).
    private var hyp: [Int32] = [], ref: [Int32] = []
    private var hypEnds: [Int] = [], refEnds: [Int] = []
    // Per-id scratch, reset by generation stamps.
    private var stampA: [UInt32] = [], stampB: [UInt32] = [], countR: [Int32] = [], countC: [Int32] = []
    private var stamp: UInt32 = 0
    private var scratch: [UInt8] = []
    private let emptyId: Int32
    private let errorText = "error"

    public init(flavor: RougeFlavor = .rouge, emptyHypothesis: EmptyHypothesisPolicy = .raise) {
        self.flavor = flavor
        self.emptyHypothesis = emptyHypothesis
        emptyId = interner.intern([])
    }

    /// Scores one prediction against one reference.
    public func score(prediction: String, reference: String) throws -> RougeScore {
        try score(prediction, reference, index: nil)
    }

    /// Scores pairs; the average is the plain mean of f, p and r (`get_scores(..., avg=True)` for `.rouge`).
    public func score(predictions: [String], references: [String]) throws -> (average: RougeScore, perExample: [RougeScore]) {
        precondition(predictions.count == references.count, "predictions and references differ in count")
        var per: [RougeScore] = []
        per.reserveCapacity(predictions.count)
        var sf = 0.0, sp = 0.0, sr = 0.0
        for k in predictions.indices {
            let s = try score(predictions[k], references[k], index: k)
            sf += s.f; sp += s.p; sr += s.r
            per.append(s)
        }
        let n = Double(max(per.count, 1))
        return (RougeScore(f: sf / n, p: sp / n, r: sr / n), per)
    }

    private func score(_ prediction: String, _ reference: String, index: Int?) throws -> RougeScore {
        switch flavor {
        case .rouge:
            tokenizeRouge(reference, into: &ref, ends: &refEnds)
            if refEnds.isEmpty { throw RougeInputError(index: index, which: "reference") }
            tokenizeRouge(prediction, into: &hyp, ends: &hypEnds)
            if hypEnds.isEmpty {
                guard emptyHypothesis == .substituteError else { throw RougeInputError(index: index, which: "hypothesis") }
                tokenizeRouge(errorText, into: &hyp, ends: &hypEnds)
            }
            return rougePackageScore()
        case .rougeScore:
            tokenizeGoogle(reference, lines: false, into: &ref, ends: &refEnds)
            tokenizeGoogle(prediction, lines: false, into: &hyp, ends: &hypEnds)
            return plainLCSScore()
        case .rougeLsum:
            tokenizeGoogle(reference, lines: true, into: &ref, ends: &refEnds)
            tokenizeGoogle(prediction, lines: true, into: &hyp, ends: &hypEnds)
            return summaryLevelCountsScore()
        case .cjk:
            tokenizeCJK(reference, into: &ref, ends: &refEnds)
            tokenizeCJK(prediction, into: &hyp, ends: &hypEnds)
            return plainLCSScore()
        }
    }

    // MARK: Tokenizers

    /// `rouge`: pieces of text.split("."), kept when non-empty; each piece's white-space words, or the one empty
    /// token "" when the piece is only white space (" ".join("  ".split()) == "" and "".split(" ") == [""]).
    private func tokenizeRouge(_ text: String, into out: inout [Int32], ends: inout [Int]) {
        out.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        var text = text
        text.withUTF8 { b in
            guard let base = b.baseAddress else { return }
            let n = b.count
            var pieceStart = 0
            var i = 0
            while i <= n {
                if i == n || b[i] == 0x2E {
                    if i > pieceStart {
                        let before = out.count
                        var k = pieceStart
                        var wordStart = -1
                        while k < i {
                            let sl = utf8SpaceLength(b, k)
                            if sl > 0 {
                                if wordStart >= 0 { out.append(interner.intern(base + wordStart, k - wordStart)); wordStart = -1 }
                                k += sl
                            } else {
                                if wordStart < 0 { wordStart = k }
                                k += 1
                            }
                        }
                        if wordStart >= 0 { out.append(interner.intern(base + wordStart, i - wordStart)) }
                        if out.count == before { out.append(emptyId) }
                        ends.append(out.count)
                    }
                    pieceStart = i + 1
                }
                i += 1
            }
        }
    }

    /// `rouge-score` default tokenizer: lower-case (Unicode), then maximal runs of [a-z0-9]; with `lines`, one
    /// sentence per non-empty line (text.split("\n")), possibly with no tokens.
    private func tokenizeGoogle(_ text: String, lines: Bool, into out: inout [Int32], ends: inout [Int]) {
        out.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        scratch.removeAll(keepingCapacity: true)
        var text = text
        text.withUTF8 { b in
            let n = b.count
            var lineStart = 0
            var i = 0
            func flush() { if !scratch.isEmpty { out.append(interner.intern(scratch)); scratch.removeAll(keepingCapacity: true) } }
            while i < n {
                let c = b[i]
                if c < 0x80 {
                    if lines && c == 0x0A {
                        flush()
                        if i > lineStart { ends.append(out.count) }
                        lineStart = i + 1
                    } else if (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7A) {
                        scratch.append(c)
                    } else if c >= 0x41 && c <= 0x5A {
                        scratch.append(c + 32)
                    } else {
                        flush()
                    }
                    i += 1
                } else {
                    let (v, len) = utf8Decode(b, i)
                    // A few non-ASCII letters lower-case to ASCII (U+212A KELVIN SIGN -> "k", U+0130 -> "i" + U+0307).
                    for s in Unicode.Scalar(v)!.properties.lowercaseMapping.unicodeScalars {
                        let w = s.value
                        if (w >= 0x30 && w <= 0x39) || (w >= 0x61 && w <= 0x7A) { scratch.append(UInt8(w)) } else { flush() }
                    }
                    i += len
                }
            }
            flush()
            if !lines || n > lineStart { ends.append(out.count) }
        }
    }

    /// Ours: each CJK code point one token, other runs of non-white-space code points one token each.
    private func tokenizeCJK(_ text: String, into out: inout [Int32], ends: inout [Int]) {
        out.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        var text = text
        text.withUTF8 { b in
            guard let base = b.baseAddress else { return }
            var i = 0, wordStart = -1
            while i < b.count {
                let sl = utf8SpaceLength(b, i)
                if sl > 0 {
                    if wordStart >= 0 { out.append(interner.intern(base + wordStart, i - wordStart)); wordStart = -1 }
                    i += sl
                    continue
                }
                let (v, len) = utf8Decode(b, i)
                if isCJK(v) {
                    if wordStart >= 0 { out.append(interner.intern(base + wordStart, i - wordStart)); wordStart = -1 }
                    out.append(interner.intern(base + i, len))
                } else if wordStart < 0 {
                    wordStart = i
                }
                i += len
            }
            if wordStart >= 0 { out.append(interner.intern(base + wordStart, b.count - wordStart)) }
        }
        ends.append(out.count)
    }

    // MARK: Scores

    private func prepareScratch() {
        let n = interner.count
        if stampA.count < n {
            let grow = n - stampA.count + 1024
            stampA.append(contentsOf: repeatElement(0, count: grow))
            stampB.append(contentsOf: repeatElement(0, count: grow))
            countR.append(contentsOf: repeatElement(0, count: grow))
            countC.append(contentsOf: repeatElement(0, count: grow))
        }
        if stamp >= UInt32.max - 4 {
            for k in stampA.indices { stampA[k] = 0; stampB[k] = 0 }
            stamp = 0
        }
    }

    /// rouge_l_summary_level: m, n = numbers of DISTINCT tokens (exclusive Ngrams are sets); the hit count is the
    /// size of the union, over every (reference sentence, hypothesis sentence) pair, of the SET of tokens of the
    /// LCS read out with the package's tie rule.
    private func rougePackageScore() -> RougeScore {
        prepareScratch()
        stamp += 1
        let s1 = stamp
        stamp += 1
        let s2 = stamp
        var m = 0, n = 0, hits = 0
        stampA.withUnsafeMutableBufferPointer { sa in
            stampB.withUnsafeMutableBufferPointer { sb in
                for t in ref where sa[Int(t)] != s1 { sa[Int(t)] = s1; m += 1 }
                for t in hyp where sa[Int(t)] != s2 { sa[Int(t)] = s2; n += 1 }
                ref.withUnsafeBufferPointer { rb in
                    hyp.withUnsafeBufferPointer { hb in
                        var r0 = 0
                        for re in refEnds {
                            let x = UnsafeBufferPointer(rebasing: rb[r0..<re])
                            var h0 = 0
                            for he in hypEnds {
                                let y = UnsafeBufferPointer(rebasing: hb[h0..<he])
                                lcs.readOut(x, y, upOnTie: false) { i in
                                    let t = Int(x[i])
                                    if sb[t] != s1 { sb[t] = s1; hits += 1 }
                                }
                                h0 = he
                            }
                            r0 = re
                        }
                    }
                }
            }
        }
        let r = Double(hits) / Double(m), p = Double(hits) / Double(n)
        return RougeScore(f: 2.0 * ((p * r) / (p + r + 1e-8)), p: p, r: r)
    }

    /// rougeL (one LCS over all tokens) and ours: P = LCS/|hyp|, R = LCS/|ref|, F = 2PR/(P+R) (0 when empty).
    private func plainLCSScore() -> RougeScore {
        if ref.isEmpty || hyp.isEmpty { return RougeScore(f: 0, p: 0, r: 0) }
        let l = ref.withUnsafeBufferPointer { rb in hyp.withUnsafeBufferPointer { hb in lcs.length(rb, hb) } }
        let p = Double(l) / Double(hyp.count), r = Double(l) / Double(ref.count)
        return RougeScore(f: googleF(p, r), p: p, r: r)
    }

    /// rougeLsum (_summary_level_lcs): for each reference line, the union of the LCS POSITIONS (in the reference
    /// line) over all hypothesis lines, in order; each token counts as a hit while both sides' token counts last.
    private func summaryLevelCountsScore() -> RougeScore {
        let m = ref.count, n = hyp.count
        if refEnds.isEmpty || hypEnds.isEmpty || m == 0 || n == 0 { return RougeScore(f: 0, p: 0, r: 0) }
        prepareScratch()
        for t in ref { countR[Int(t)] = 0 }
        for t in hyp { countC[Int(t)] = 0 }
        for t in ref { countR[Int(t)] += 1 }
        for t in hyp { countC[Int(t)] += 1 }
        var hits = 0
        var marks: [Bool] = []
        ref.withUnsafeBufferPointer { rb in
            hyp.withUnsafeBufferPointer { hb in
                var r0 = 0
                for re in refEnds {
                    let x = UnsafeBufferPointer(rebasing: rb[r0..<re])
                    marks.removeAll(keepingCapacity: true)
                    marks.append(contentsOf: repeatElement(false, count: x.count))
                    var h0 = 0
                    for he in hypEnds {
                        let y = UnsafeBufferPointer(rebasing: hb[h0..<he])
                        lcs.readOut(x, y, upOnTie: true) { i in marks[i] = true }
                        h0 = he
                    }
                    for i in 0..<x.count where marks[i] {
                        let t = Int(x[i])
                        if countC[t] > 0 && countR[t] > 0 { hits += 1; countC[t] -= 1; countR[t] -= 1 }
                    }
                    r0 = re
                }
            }
        }
        let r = Double(hits) / Double(m), p = Double(hits) / Double(n)
        return RougeScore(f: googleF(p, r), p: p, r: r)
    }
}

/// rouge_score.scoring.fmeasure: 2PR/(P+R), 0 when P+R is 0.
@inline(__always) func googleF(_ p: Double, _ r: Double) -> Double { p + r > 0 ? 2 * p * r / (p + r) : 0 }

/// The CJK ranges of our Rouge-L: Han (with extensions and compatibility), kana, Hangul, CJK symbols and
/// punctuation, full-width forms.
@inline(__always) func isCJK(_ c: UInt32) -> Bool {
    (0x4E00...0x9FFF).contains(c) || (0x3400...0x4DBF).contains(c) || (0x20000...0x2FA1F).contains(c)
        || (0xF900...0xFAFF).contains(c) || (0x3040...0x30FF).contains(c) || (0xAC00...0xD7AF).contains(c)
        || (0x3000...0x303F).contains(c) || (0xFF00...0xFFEF).contains(c) || (0x31F0...0x31FF).contains(c)
        || (0x1100...0x11FF).contains(c) || (0x3130...0x318F).contains(c)
}
