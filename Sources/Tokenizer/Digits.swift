// The Digits pre-tokenizer: numeric characters (Rust's `char::is_numeric`, i.e. \p{N}) split off, one per piece
// (`individual_digits: true`) or as runs. Reference: HF tokenizers `pre_tokenizers::digits`.

enum Digits {
    /// Appends one range per numeric character of `p[start..<end]` (absolute byte offsets). HF matches a character
    /// predicate one character at a time, so a run of digits is a run of adjacent one-character matches: `Isolated`
    /// keeps each apart, `Contiguous` joins them.
    static func matches(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, into out: inout [Range<Int>]) {
        var i = start
        while i < end {
            let b = p[i]
            if b < 0x80 {
                if b >= 0x30 && b <= 0x39 { out.append(i..<(i + 1)) }
                i += 1
                continue
            }
            let (v, l) = decodeScalar(p, i)
            if ScalarClass.of(v).contains(.number) { out.append(i..<(i + l)) }
            i += l
        }
    }

    /// The split behaviour HF uses for the flag.
    static func behavior(individual: Bool) -> SplitBehavior { individual ? .isolated : .contiguous }
}
