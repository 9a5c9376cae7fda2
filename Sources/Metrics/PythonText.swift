// Python `str` semantics the papers' scoring code relies on: str.isspace / str.split(), str.lower(), strip(),
// the `re` module's \w, and code-point (not canonical-equivalence) string equality. Reference: CPython 3.11.

/// Python's `str.isspace()` for one code point (`Py_UNICODE_ISSPACE`): the characters `str.split()` splits on.
@inlinable public func pythonIsSpace(_ v: UInt32) -> Bool {
    switch v {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
        return true
    default:
        return false
    }
}

/// A string compared, hashed and ordered by its code points, as Python compares `str`
/// (Swift's `String ==` uses canonical equivalence, so "é" and "e\u{301}" would be equal there but not in Python).
public struct PyString: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The code points.
    public let scalars: [UInt32]
    public init(_ s: String) { scalars = s.unicodeScalars.map(\.value) }
    public init(scalars: [UInt32]) { self.scalars = scalars }
    public init<S: Sequence>(_ s: S) where S.Element == Unicode.Scalar { scalars = s.map(\.value) }
    /// The Swift string.
    public var string: String {
        var out = String.UnicodeScalarView()
        for v in scalars { out.append(Unicode.Scalar(v) ?? "\u{FFFD}") }
        return String(out)
    }
    public var description: String { string }
    public static func < (a: PyString, b: PyString) -> Bool { a.scalars.lexicographicallyPrecedes(b.scalars) }
}

/// Python's `s.split()` (no argument): runs of non-white-space code points.
public func pythonSplit(_ s: String) -> [Substring] {
    var out: [Substring] = []
    var start: String.Index? = nil
    let u = s.unicodeScalars
    var i = u.startIndex
    while i < u.endIndex {
        if pythonIsSpace(u[i].value) {
            if let st = start { out.append(s[st..<i]); start = nil }
        } else if start == nil {
            start = i
        }
        i = u.index(after: i)
    }
    if let st = start { out.append(s[st..<u.endIndex]) }
    return out
}

/// Python's `s.strip()` (no argument): white space removed at both ends.
public func pythonStrip(_ s: String) -> String {
    let u = s.unicodeScalars
    guard let first = u.firstIndex(where: { !pythonIsSpace($0.value) }) else { return "" }
    let last = u.lastIndex(where: { !pythonIsSpace($0.value) })!
    return String(u[first...last])
}

/// Python's `s.split(sep)` with a non-empty separator, compared by code points.
public func pythonSplit(_ s: String, separator: String) -> [String] {
    let hay = Array(s.unicodeScalars), needle = Array(separator.unicodeScalars)
    precondition(!needle.isEmpty, "empty separator")
    var out: [String] = []
    var start = 0, i = 0
    while i + needle.count <= hay.count {
        if hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle {
            out.append(String(String.UnicodeScalarView(hay[start..<i])))
            i += needle.count
            start = i
        } else {
            i += 1
        }
    }
    out.append(String(String.UnicodeScalarView(hay[start...])))
    return out
}

/// Python's `str.lower()`: full Unicode lower-case mapping, with the Final_Sigma rule for U+03A3.
public func pythonLower(_ s: String) -> String {
    let scalars = Array(s.unicodeScalars)
    var out = String.UnicodeScalarView()
    for (i, c) in scalars.enumerated() {
        if c.isASCII {
            out.append(c.value >= 0x41 && c.value <= 0x5A ? Unicode.Scalar(c.value + 32)! : c)
        } else if c.value == 0x3A3 {
            out.append(isFinalSigma(scalars, i) ? "\u{3C2}" : "\u{3C3}")
        } else {
            out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
        }
    }
    return String(out)
}

/// CPython's `_PyUnicode_FinalSigma`: a cased letter before (skipping case-ignorables) and none after.
private func isFinalSigma(_ s: [Unicode.Scalar], _ i: Int) -> Bool {
    var j = i - 1
    while j >= 0 && s[j].properties.isCaseIgnorable { j -= 1 }
    guard j >= 0 && s[j].properties.isCased else { return false }
    j = i + 1
    while j < s.count && s[j].properties.isCaseIgnorable { j += 1 }
    return !(j < s.count && s[j].properties.isCased)
}

/// The `re` module's `\w` for a `str` pattern: `str.isalnum()` or "_" (letters L*, and code points with a
/// numeric type: decimal, digit or numeric).
public func pythonIsWordChar(_ c: Unicode.Scalar) -> Bool {
    if c.isASCII {
        let v = c.value
        return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
    }
    switch c.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
    default: return c.properties.numericType != nil
    }
}
