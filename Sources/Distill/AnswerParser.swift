// Parses a teacher's answer to the UniversalNER prompt (`[("entity 1", "type of entity 1"), ...]`) into (entity, type)
// pairs, tolerating what chat models write around and inside the list: prose before and after it, Markdown code
// fences, Python tuples with single or double quotes and backslash escapes, JSON arrays of two-element arrays,
// unquoted items, trailing commas, apostrophes inside single-quoted strings, and an answer cut off mid-tuple (the
// `max_tokens` budget ran out). Tuples that are not two strings are dropped and counted, never guessed at.
import Foundation

/// An (entity, type) pair as the teacher wrote it (escapes resolved, nothing else changed).
public struct EntityPair: Sendable, Equatable, Hashable {
    public var entity: String
    public var type: String
    public init(entity: String, type: String) { self.entity = entity; self.type = type }
}

/// What an answer held.
public struct ParsedAnswer: Sendable, Equatable {
    /// Well-formed pairs, in answer order.
    public var pairs: [EntityPair] = []
    /// Whether a list or at least one tuple was found (false: an answer of prose only, e.g. "No entities.").
    public var foundList = false
    /// Elements that were not two strings: `("a")`, `("a", "b", "c")`, `[["a"], "b"]`, `{"entity": ...}`.
    public var malformed = 0
    /// A last element cut off before its closing bracket (or inside a string).
    public var truncated = 0

    public init(pairs: [EntityPair] = [], foundList: Bool = false, malformed: Int = 0, truncated: Int = 0) {
        self.pairs = pairs; self.foundList = foundList; self.malformed = malformed; self.truncated = truncated
    }
}

public enum TeacherAnswerParser {
    /// Parses an answer.
    ///
    /// The list is the first `[` followed (after white space) by `(`, `[`, `{` or `]`, else the first `[` not followed
    /// by a quote whose elements hold a pair (`[\n1. ("a", "b")\n]`); elements are read from there to its closing
    /// `]` (text after it is ignored), or to the end of the answer when it was cut off. Without a list, tuples are read
    /// wherever they appear (an answer of bare tuples, or one `["entity", "type"]`); when none of them is a pair the
    /// answer counts as prose (`foundList` false, nothing counted). Inside an
    /// element, items are quoted strings (`'`, `"`, or typographic quotes) or bare text up to the next `,`, `)` or
    /// `]`; a quote closes its string only when followed (after spaces) by `,`, `)`, `]`, `}`, `:` or the end, so that
    /// `('Macy's', 'store')` reads as written. Escapes: `\\ \' \" \n \t \r \uXXXX` (with surrogate pairs) and
    /// `\xXX`; any other backslash is kept as it is (Python keeps unknown escapes).
    public static func parse(_ answer: String) -> ParsedAnswer {
        var scanner = Scanner(Array(stripFences(answer).unicodeScalars))
        return scanner.run()
    }

    /// The answer without Markdown code-fence lines (```` ``` ```` or ```` ```python ````).
    static func stripFences(_ text: String) -> String {
        guard text.contains("```") else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("```") }
            .joined(separator: "\n")
    }

    private struct Scanner {
        let s: [Unicode.Scalar]
        var i = 0
        var result = ParsedAnswer()

        init(_ s: [Unicode.Scalar]) { self.s = s }

        var atEnd: Bool { i >= s.count }

        static func isSpace(_ c: Unicode.Scalar) -> Bool { c.properties.isWhitespace }

        func nextNonSpace(from j: Int) -> Int {
            var k = j
            while k < s.count, Self.isSpace(s[k]) { k += 1 }
            return k
        }

        mutating func run() -> ParsedAnswer {
            let opens = s.indices.filter { s[$0] == "[" }
            func next(_ k: Int) -> Unicode.Scalar? {
                let n = nextNonSpace(from: k + 1)
                return n < s.count ? s[n] : nil
            }
            // The list: the first `[` whose next non-space character opens an element or closes the list.
            if let k = opens.first(where: { next($0).map { "([{]".unicodeScalars.contains($0) } ?? false }) {
                return list(at: k)
            }
            // Else the first `[` not followed by a quote (numbered lines inside the brackets) that holds a pair.
            for k in opens {
                guard let c = next(k), !"\"'\u{201C}\u{2018}".unicodeScalars.contains(c) else { continue }
                let r = list(at: k)
                if !r.pairs.isEmpty { return r }
            }
            // No list: tuples wherever they are. Without a single pair this was prose ("No entities found (the
            // passage is a greeting).", a list of names without types), not a list with bad elements: nothing is
            // counted.
            result = ParsedAnswer()
            i = 0
            elements(closing: nil)
            return result.pairs.isEmpty ? ParsedAnswer() : result
        }

        /// The elements of the list opening at `k`.
        mutating func list(at k: Int) -> ParsedAnswer {
            result = ParsedAnswer(foundList: true)
            i = k + 1
            elements(closing: "]")
            return result
        }

        /// Elements until the closing bracket of the list (or the end of the text).
        mutating func elements(closing: Unicode.Scalar?) {
            while !atEnd {
                let c = s[i]
                if let closing, c == closing { i += 1; return }
                switch c {
                case "(", "[":
                    result.foundList = true
                    element()
                case "{":
                    result.foundList = true
                    skipObject()
                default:
                    i += 1  // separators, numbering, stray prose between elements
                }
            }
        }

        /// One element at an opening `(` or `[`.
        mutating func element() {
            i += 1
            var items: [String] = []
            var wellFormed = true
            while true {
                i = nextNonSpace(from: i)
                if atEnd { result.truncated += 1; return }
                let c = s[i]
                switch c {
                case ")", "]":
                    i += 1
                    if wellFormed && items.count == 2 {
                        result.pairs.append(EntityPair(entity: items[0], type: items[1]))
                    } else {
                        result.malformed += 1
                    }
                    return
                case ",":
                    i += 1
                case "(", "[":
                    // A nested element: the outer one is malformed whatever the inner one holds.
                    wellFormed = false
                    if !skipNested() { result.truncated += 1; return }
                case "{":
                    wellFormed = false
                    if !skipNested() { result.truncated += 1; return }
                case "\"", "'", "\u{201C}", "\u{2018}":
                    guard let str = string() else { result.truncated += 1; return }
                    items.append(str)
                default:
                    guard let bare = bareItem() else { result.truncated += 1; return }
                    items.append(bare)
                }
            }
        }

        /// Skips a nested bracketed item (strings respected); false when the text ends inside it.
        mutating func skipNested() -> Bool {
            var depth = 0
            while !atEnd {
                let c = s[i]
                switch c {
                case "(", "[", "{": depth += 1; i += 1
                case ")", "]", "}":
                    depth -= 1; i += 1
                    if depth == 0 { return true }
                case "\"", "'", "\u{201C}", "\u{2018}":
                    if string() == nil { return false }
                default: i += 1
                }
            }
            return false
        }

        /// Skips a `{...}` element and counts it as malformed (an object is not a tuple).
        mutating func skipObject() {
            if skipNested() { result.malformed += 1 } else { result.truncated += 1 }
        }

        /// A quoted string at `i`; nil when the text ends inside it.
        mutating func string() -> String? {
            let open = s[i]
            let close: Unicode.Scalar = open == "\u{201C}" ? "\u{201D}" : open == "\u{2018}" ? "\u{2019}" : open
            i += 1
            var out = String.UnicodeScalarView()
            while !atEnd {
                let c = s[i]
                if c == "\\" && open != "\u{201C}" && open != "\u{2018}" {
                    guard i + 1 < s.count else { i += 1; return nil }
                    i += 1
                    escape(into: &out)
                    continue
                }
                if c == close {
                    let n = nextNonSpace(from: i + 1)
                    if n >= s.count || ",)]}:".unicodeScalars.contains(s[n]) {
                        i += 1
                        return String(out)
                    }
                }
                out.append(c)
                i += 1
            }
            return nil
        }

        /// The escape after a backslash (at `i`, the backslash already passed).
        mutating func escape(into out: inout String.UnicodeScalarView) {
            let e = s[i]
            switch e {
            case "n": out.append("\n"); i += 1
            case "t": out.append("\t"); i += 1
            case "r": out.append("\r"); i += 1
            case "\\", "'", "\"", "/": out.append(e); i += 1
            case "u":
                if let v = hex(at: i + 1, count: 4) {
                    i += 5
                    if (0xD800...0xDBFF).contains(v), i + 1 < s.count, s[i] == "\\", s[i + 1] == "u",
                       let lo = hex(at: i + 2, count: 4), (0xDC00...0xDFFF).contains(lo) {
                        i += 6
                        if let u = Unicode.Scalar(0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)) { out.append(u) }
                    } else if let u = Unicode.Scalar(v) {
                        out.append(u)
                    } else {
                        out.append("\u{FFFD}")
                    }
                } else {
                    out.append("\\"); out.append(e); i += 1
                }
            case "x":
                if let v = hex(at: i + 1, count: 2), let u = Unicode.Scalar(v) {
                    out.append(u); i += 3
                } else {
                    out.append("\\"); out.append(e); i += 1
                }
            default:
                out.append("\\"); out.append(e); i += 1
            }
        }

        func hex(at j: Int, count: Int) -> UInt32? {
            guard j + count <= s.count else { return nil }
            var v: UInt32 = 0
            for k in j..<(j + count) {
                guard let d = Int(String(s[k]), radix: 16) else { return nil }
                v = v * 16 + UInt32(d)
            }
            return v
        }

        /// Unquoted text up to the next `,`, `)` or `]`, trimmed; nil when the text ends first.
        mutating func bareItem() -> String? {
            var out = String.UnicodeScalarView()
            while !atEnd {
                let c = s[i]
                if c == "," || c == ")" || c == "]" {
                    return String(out).trimmingCharacters(in: .whitespacesAndNewlines)
                }
                out.append(c)
                i += 1
            }
            return nil
        }
    }
}
