// A small JSON parser with Python `json.loads` semantics that keeps object key order (EcomGPT's type maps are
// ordered) and accepts what Python accepts (NaN, Infinity, -Infinity); control characters inside strings are
// errors (strict mode), as are trailing data and trailing commas.

/// A parsed JSON value; objects keep their key order (a repeated key keeps the last value, as Python does,
/// at its first position).
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y || (x.isNaN && y.isNaN)
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.map(\.0) == y.map(\.0) && x.map(\.1) == y.map(\.1)
        default: return false
        }
    }

    /// The value under `key` of an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let kv) = self { return kv.first { $0.0 == key }?.1 }
        return nil
    }

    /// Parses a whole text (white space around allowed).
    public static func parse(_ text: String) throws -> JSONValue {
        var p = JSONParser(Array(text.utf8))
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        if p.i != p.b.count { throw JSONParseError(offset: p.i, message: "extra data") }
        return v
    }
}

/// A JSON syntax error at a byte offset.
public struct JSONParseError: Error, CustomStringConvertible, Sendable {
    public let offset: Int
    public let message: String
    public var description: String { "\(message) at byte \(offset)" }
}

struct JSONParser {
    let b: [UInt8]
    var i = 0
    init(_ b: [UInt8]) { self.b = b }

    mutating func skipSpace() {
        while i < b.count && (b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D) { i += 1 }
    }

    private func fail(_ m: String) -> JSONParseError { JSONParseError(offset: i, message: m) }

    private mutating func literal(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard i + u.count <= b.count, Array(b[i..<(i + u.count)]) == u else { return false }
        i += u.count
        return true
    }

    mutating func value(depth: Int) throws -> JSONValue {
        guard depth < 512 else { throw fail("nesting too deep") }
        guard i < b.count else { throw fail("expecting value") }
        switch b[i] {
        case 0x7B:
            i += 1
            var kv: [(String, JSONValue)] = []
            skipSpace()
            if i < b.count && b[i] == 0x7D { i += 1; return .object(kv) }
            while true {
                skipSpace()
                guard i < b.count, b[i] == 0x22 else { throw fail("expecting property name in double quotes") }
                let k = try string()
                skipSpace()
                guard i < b.count, b[i] == 0x3A else { throw fail("expecting ':'") }
                i += 1
                skipSpace()
                let v = try value(depth: depth + 1)
                if let at = kv.firstIndex(where: { $0.0 == k }) { kv[at].1 = v } else { kv.append((k, v)) }
                skipSpace()
                guard i < b.count else { throw fail("expecting ',' or '}'") }
                if b[i] == 0x2C { i += 1; continue }
                if b[i] == 0x7D { i += 1; return .object(kv) }
                throw fail("expecting ',' or '}'")
            }
        case 0x5B:
            i += 1
            var items: [JSONValue] = []
            skipSpace()
            if i < b.count && b[i] == 0x5D { i += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard i < b.count else { throw fail("expecting ',' or ']'") }
                if b[i] == 0x2C { i += 1; continue }
                if b[i] == 0x5D { i += 1; return .array(items) }
                throw fail("expecting ',' or ']'")
            }
        case 0x22:
            return .string(try string())
        default:
            if literal("null") { return .null }
            if literal("true") { return .bool(true) }
            if literal("false") { return .bool(false) }
            if literal("NaN") { return .number(.nan) }
            if literal("Infinity") { return .number(.infinity) }
            if literal("-Infinity") { return .number(-.infinity) }
            return .number(try number())
        }
    }

    private mutating func number() throws -> Double {
        let start = i
        if i < b.count && b[i] == 0x2D { i += 1 }
        func digits() -> Int { let s = i; while i < b.count && b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }; return i - s }
        guard i < b.count, b[i] >= 0x30 && b[i] <= 0x39 else { i = start; throw fail("expecting value") }
        if b[i] == 0x30 { i += 1 } else { _ = digits() }
        if i < b.count && b[i] == 0x2E {
            let save = i
            i += 1
            if digits() == 0 { i = save }
        }
        if i < b.count && (b[i] == 0x65 || b[i] == 0x45) {
            let save = i
            i += 1
            if i < b.count && (b[i] == 0x2B || b[i] == 0x2D) { i += 1 }
            if digits() == 0 { i = save }
        }
        return Double(String(decoding: b[start..<i], as: UTF8.self)) ?? .nan
    }

    private mutating func hex4() throws -> UInt32 {
        guard i + 4 <= b.count else { throw fail("invalid \\uXXXX escape") }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = b[i + k]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail("invalid \\uXXXX escape")
            }
            v = v * 16 + d
        }
        i += 4
        return v
    }

    mutating func string() throws -> String {
        i += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard i < b.count else { throw fail("unterminated string") }
            let c = b[i]
            if c == 0x22 { i += 1; break }
            if c < 0x20 { throw fail("invalid control character") }
            if c != 0x5C { out.append(c); i += 1; continue }
            i += 1
            guard i < b.count else { throw fail("unterminated string") }
            let e = b[i]
            i += 1
            switch e {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x2F: out.append(0x2F)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var v = try hex4()
                if v >= 0xD800 && v < 0xDC00, i + 1 < b.count, b[i] == 0x5C, b[i + 1] == 0x75 {
                    let save = i
                    i += 2
                    let lo = try hex4()
                    if lo >= 0xDC00 && lo < 0xE000 { v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00) } else { i = save }
                }
                // A lone surrogate (Python keeps it in the str) becomes U+FFFD here.
                out.append(contentsOf: Array(String(Unicode.Scalar(v) ?? "\u{FFFD}").utf8))
            default:
                i -= 1
                throw fail("invalid \\escape")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
