// The byte-level alphabet of GPT-2 (`bytes_to_unicode`): each byte is shown as one printable Unicode character.
// Reference: HF tokenizers `pre_tokenizers::byte_level::bytes_char`, OpenAI GPT-2 `encoder.py`.

/// Maps every byte to a printable character and back.
///
/// Printable Latin-1 bytes (`!`...`~`, `¡`...`¬`, `®`...`ÿ`) stand for themselves; the 68 others (controls, space,
/// DEL, NBSP, soft hyphen) are given the code points 256, 257, ... in byte order, so space becomes `Ġ` (U+0120).
enum ByteLevelAlphabet {
    /// `scalar[b]`: the character standing for byte `b`.
    static let scalars: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte a character stands for, or nil when the character is not in the alphabet.
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let v = scalar.value
        if v < 256 {
            let b = Int(v)
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            return printable ? UInt8(b) : nil
        }
        return inverse[v]
    }

    private static let inverse: [UInt32: UInt8] = {
        var d: [UInt32: UInt8] = [:]
        for b in 0..<256 where scalars[b].value >= 256 { d[scalars[b].value] = UInt8(b) }
        return d
    }()

    /// The byte-level string of raw bytes (`"hi there"` -> `"hiĠthere"`).
    static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(scalars[Int(b)]) }
        return String(s)
    }

    /// The raw bytes of a token string: each character's byte, or, when some character is not in the alphabet,
    /// the token's own UTF-8 bytes (as HF's ByteLevel decoder does).
    static func decode(_ token: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(token.utf8.count)
        for scalar in token.unicodeScalars {
            guard let b = byte(for: scalar) else { return Array(token.utf8) }
            out.append(b)
        }
        return out
    }
}
