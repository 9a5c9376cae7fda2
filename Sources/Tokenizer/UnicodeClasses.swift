// Character classes used by the split patterns (Oniguruma's \s, \p{L}, \p{N}; Rust regex's \w), from Unicode properties.
// A table covers the Basic Multilingual Plane; other planes are classified on the fly.

/// Bit flags describing one Unicode scalar.
struct ScalarClass: OptionSet {
    let rawValue: UInt8
    /// `\s`: the Unicode White_Space property (Oniguruma and Rust regex agree on it).
    static let whitespace = ScalarClass(rawValue: 1)
    /// `\p{L}`: general category L (Lu, Ll, Lt, Lm, Lo).
    static let letter = ScalarClass(rawValue: 2)
    /// `\p{N}`: general category N (Nd, Nl, No).
    static let number = ScalarClass(rawValue: 4)
    /// Excluded by BLOOM's class `[^(\s|[.,!?…。，、।۔،])]`: white space, `(`, `)`, `|` and the listed punctuation.
    static let bloomExcluded = ScalarClass(rawValue: 8)
    /// `\w` of Rust's regex crate: Alphabetic, marks, decimal digits, connector punctuation, Join_Control.
    static let word = ScalarClass(rawValue: 16)

    static func compute(_ scalar: Unicode.Scalar) -> ScalarClass {
        let p = scalar.properties
        var c: ScalarClass = []
        if p.isWhitespace { c.insert(.whitespace) }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            c.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber:
            c.insert(.number)
        default: break
        }
        if c.contains(.whitespace) || bloomPunctuation.contains(scalar.value) { c.insert(.bloomExcluded) }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation:
            c.insert(.word)
        default:
            if p.isAlphabetic || p.isJoinControl { c.insert(.word) }
        }
        return c
    }

    /// `( ) |` and `. , ! ? … 。 ， 、 । ۔ ،` (the members of BLOOM's class other than `\s`).
    static let bloomPunctuation: Set<UInt32> = [
        0x28, 0x29, 0x7C, 0x2E, 0x2C, 0x21, 0x3F, 0x2026, 0x3002, 0xFF0C, 0x3001, 0x0964, 0x06D4, 0x060C,
    ]

    /// Classes of every BMP scalar (surrogates get none).
    static let bmp: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 0x10000)
        for v in 0..<0x10000 {
            if let s = Unicode.Scalar(UInt32(v)) { t[v] = compute(s).rawValue }
        }
        return t
    }()

    @inline(__always) static func of(_ value: UInt32) -> ScalarClass {
        if value < 0x10000 { return ScalarClass(rawValue: bmp[Int(value)]) }
        guard let s = Unicode.Scalar(value) else { return [] }
        return compute(s)
    }
}

/// Decodes the scalar starting at `i` of valid UTF-8; returns its value and byte length.
@inline(__always) func decodeScalar(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> (value: UInt32, length: Int) {
    let b0 = UInt32(p[i])
    if b0 < 0x80 { return (b0, 1) }
    if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2) }
    if b0 < 0xF0 {
        return ((b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3)
    }
    return ((b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6 | UInt32(p[i + 3] & 0x3F), 4)
}

/// Byte length of the UTF-8 sequence starting with `lead`.
@inline(__always) func utf8Length(lead: UInt8) -> Int {
    lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
}

/// The scalar ending just before byte `end` (valid UTF-8): its value and start.
@inline(__always) func scalarBefore(_ p: UnsafeBufferPointer<UInt8>, _ end: Int) -> (value: UInt32, start: Int) {
    var s = end - 1
    while s > 0 && p[s] & 0xC0 == 0x80 { s -= 1 }
    return (decodeScalar(p, s).value, s)
}
