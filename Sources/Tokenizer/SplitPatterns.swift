// Hand-written matchers for the split patterns of byte-level BPE tokenizers, reproducing Oniguruma's leftmost
// matches as HF tokenizers finds them: BLOOM's ` ?[^(\s|[.,!?…。，、।۔،])]+`, GPT-2's contraction/letter/number
// pattern, and literal strings. Matchers work on UTF-8 bytes and report byte ranges.

/// A pattern a `Split` pre-tokenizer (or ByteLevel's `use_regex`) cuts the text with.
enum SplitPattern: Sendable, Equatable {
    /// BLOOM's Oniguruma regex ` ?[^(\s|[.,!?…。，、।۔،])]+`. The class is nested: it excludes white space, `(`,
    /// `)`, `|` and `. , ! ? … 。 ， 、 । ۔ ،`, but not `[` or `]` (they open and close the inner class).
    case bloom
    /// GPT-2's `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// A literal string (HF's `{"String": ...}` pattern).
    case literal([UInt8])

    static let bloomSource = #" ?[^(\s|[.,!?…。，、।۔،])]+"#
    static let gpt2Source = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    /// The matcher for a regex source, or nil when the regex is not one this library implements.
    init?(regex: String) {
        switch regex {
        case Self.bloomSource: self = .bloom
        case Self.gpt2Source: self = .gpt2
        default: return nil
        }
    }

    /// Appends the non-overlapping leftmost matches in `p[start..<end]` to `out` (absolute byte offsets).
    func matches(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, into out: inout [Range<Int>]) {
        switch self {
        case .bloom: Self.bloomMatches(p, start, end, &out)
        case .gpt2: Self.gpt2Matches(p, start, end, &out)
        case .literal(let needle): Self.literalMatches(needle, p, start, end, &out)
        }
    }

    @inline(__always) private static func classAt(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> (ScalarClass, Int) {
        let b = p[i]
        if b < 0x80 { return (ScalarClass(rawValue: asciiClasses[Int(b)]), 1) }
        let (v, l) = decodeScalar(p, i)
        return (ScalarClass.of(v), l)
    }

    private static let asciiClasses: [UInt8] = (0..<128).map { ScalarClass.compute(Unicode.Scalar(UInt8($0))).rawValue }

    /// ` ?X+` with X = not excluded: an optional space, then the longest run of non-excluded characters. A space
    /// not followed by such a run matches nothing (the space itself is excluded, being white space).
    private static func bloomMatches(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ out: inout [Range<Int>]) {
        var i = start
        while i < end {
            let j = p[i] == 0x20 ? i + 1 : i
            var k = j
            while k < end {
                let b = p[k]
                if b < 0x80 {
                    if asciiClasses[Int(b)] & ScalarClass.bloomExcluded.rawValue != 0 { break }
                    k += 1
                } else {
                    let (c, l) = classAt(p, k)
                    if c.contains(.bloomExcluded) { break }
                    k += l
                }
            }
            if k > j {
                out.append(i..<k)
                i = k
            } else {
                i += utf8Length(lead: p[i])
            }
        }
    }

    /// The longest run from `i` of characters whose class satisfies `keep`.
    @inline(__always) private static func run(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int, _ keep: (ScalarClass) -> Bool) -> Int {
        var k = i
        while k < end {
            let (c, l) = classAt(p, k)
            if !keep(c) { break }
            k += l
        }
        return k
    }

    private static func gpt2Matches(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ out: inout [Range<Int>]) {
        var i = start
        while i < end {
            let c = p[i]
            // 's 't 're 've 'm 'll 'd (case-sensitive, as written).
            if c == 0x27 && i + 1 < end {
                let n = p[i + 1]
                if n == 0x73 || n == 0x74 || n == 0x6D || n == 0x64 {
                    out.append(i..<(i + 2)); i += 2; continue
                }
                if i + 2 < end {
                    let m = p[i + 2]
                    if (n == 0x72 && m == 0x65) || (n == 0x76 && m == 0x65) || (n == 0x6C && m == 0x6C) {
                        out.append(i..<(i + 3)); i += 3; continue
                    }
                }
            }
            // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional space, then a run of one kind.
            let q = c == 0x20 ? i + 1 : i
            if q < end {
                let (cls, _) = classAt(p, q)
                var k = q
                if cls.contains(.letter) {
                    k = run(p, q, end) { $0.contains(.letter) }
                } else if cls.contains(.number) {
                    k = run(p, q, end) { $0.contains(.number) }
                } else if !cls.contains(.whitespace) {
                    k = run(p, q, end) { $0.isDisjoint(with: [.whitespace, .letter, .number]) }
                }
                if k > q { out.append(i..<k); i = k; continue }
            }
            // `\s+(?!\S)` then `\s+`: a white-space run, giving back its last character when a non-space follows
            // (so that it can lead the next word), unless the run is a single character.
            var k = i
            var lastStart = i
            while k < end {
                let (cls, l) = classAt(p, k)
                if !cls.contains(.whitespace) { break }
                lastStart = k
                k += l
            }
            if k == i {  // cannot happen for valid text; advance one character to stay safe
                k = i + utf8Length(lead: c)
            } else if k < end && lastStart > i {
                k = lastStart
            }
            out.append(i..<k)
            i = k
        }
    }

    private static func literalMatches(_ needle: [UInt8], _ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ out: inout [Range<Int>]) {
        let n = needle.count
        guard n > 0 else { return }
        var i = start
        while i + n <= end {
            var ok = true
            for t in 0..<n where p[i + t] != needle[t] { ok = false; break }
            if ok { out.append(i..<(i + n)); i += n } else { i += 1 }
        }
    }
}
