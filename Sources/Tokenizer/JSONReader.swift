// A JSON (RFC 8259) reader for tokenizer.json into Swift values ([String: Any], [Any], String, Int, Double, Bool,
// NSNull): Foundation's JSONSerialization builds bridged objects and spends most of a large tokenizer's load time
// doing so; this reads the bytes once and builds native values.
import Foundation

/// Parses JSON documents into Swift values; errors give the byte offset.
enum JSONReader {
    struct Failure: Error, CustomStringConvertible {
        let offset: Int
        let reason: String
        var description: String { "\(reason) at byte \(offset)" }
    }

    /// An object of more than ``largeObjectMembers`` members, kept as its members in document order (a vocabulary):
    /// hashing a quarter of a million String keys into a Dictionary costs more than the rest of the parse.
    struct LargeObject {
        let members: [(key: String, value: Any)]
    }

    /// Objects with more members than this are returned as ``LargeObject``.
    static let largeObjectMembers = 1024

    /// The document's value. Integers without fraction or exponent that fit in `Int` are `Int`, other numbers
    /// `Double`; objects `[String: Any]` (a repeated key keeps its last value) or, when large, ``LargeObject``;
    /// at most 512 levels of nesting.
    static func parse(_ data: Data) throws -> Any {
        try data.withUnsafeBytes { raw in
            var p = Parser(bytes: raw.bindMemory(to: UInt8.self))
            p.skipSpace()
            let value = try p.value(depth: 0)
            p.skipSpace()
            guard p.at == p.bytes.count else { throw p.fail("unexpected text after the document") }
            return value
        }
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var at = 0

        func fail(_ reason: String) -> Failure { Failure(offset: at, reason: reason) }

        mutating func skipSpace() {
            while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 { at += 1 }
        }

        mutating func value(depth: Int) throws -> Any {
            guard depth < 512 else { throw fail("nesting deeper than 512 levels") }
            guard at < bytes.count else { throw fail("unexpected end of the document") }
            switch bytes[at] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return try string()
            case UInt8(ascii: "t"): try literal("true"); return true
            case UInt8(ascii: "f"): try literal("false"); return false
            case UInt8(ascii: "n"): try literal("null"); return NSNull()
            default: return try number()
            }
        }

        mutating func literal(_ word: StaticString) throws {
            let n = word.utf8CodeUnitCount
            guard at + n <= bytes.count, memcmp(bytes.baseAddress! + at, word.utf8Start, n) == 0 else { throw fail("invalid literal") }
            at += n
        }

        mutating func object(depth: Int) throws -> Any {
            at += 1
            var members: [(key: String, value: Any)] = []
            func finish() -> Any {
                if members.count > JSONReader.largeObjectMembers { return LargeObject(members: members) }
                var out: [String: Any] = [:]
                for (k, v) in members { out[k] = v }
                return out
            }
            skipSpace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return finish() }
            while true {
                skipSpace()
                guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let key = try string()
                skipSpace()
                guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
                at += 1
                skipSpace()
                members.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard at < bytes.count else { throw fail("unterminated object") }
                if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                if bytes[at] == UInt8(ascii: "}") { at += 1; return finish() }
                throw fail("expected ',' or '}' in an object")
            }
        }

        mutating func array(depth: Int) throws -> [Any] {
            at += 1
            var out: [Any] = []
            skipSpace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return out }
            while true {
                skipSpace()
                out.append(try value(depth: depth + 1))
                skipSpace()
                guard at < bytes.count else { throw fail("unterminated array") }
                if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                if bytes[at] == UInt8(ascii: "]") { at += 1; return out }
                throw fail("expected ',' or ']' in an array")
            }
        }

        /// A string: unescaped runs are validated as UTF-8 and copied as they are.
        mutating func string() throws -> String {
            at += 1
            let start = at
            while at < bytes.count {
                let b = bytes[at]
                if b == UInt8(ascii: "\"") {
                    guard let s = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self) else {
                        throw Failure(offset: start, reason: "invalid UTF-8 in a string")
                    }
                    at += 1
                    return s
                }
                if b == UInt8(ascii: "\\") { break }
                if b < 0x20 { throw fail("control character in a string") }
                at += 1
            }
            return try escapedString(from: start)
        }

        mutating func escapedString(from start: Int) throws -> String {
            var buffer = Array(bytes[start..<at])
            while at < bytes.count {
                let b = bytes[at]
                if b == UInt8(ascii: "\"") {
                    at += 1
                    guard let s = String(validating: buffer, as: UTF8.self) else { throw Failure(offset: start, reason: "invalid UTF-8 in a string") }
                    return s
                }
                if b < 0x20 { throw fail("control character in a string") }
                if b != UInt8(ascii: "\\") { buffer.append(b); at += 1; continue }
                guard at + 1 < bytes.count else { break }
                let e = bytes[at + 1]
                at += 2
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(e)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code) {
                        guard at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else {
                            throw fail("unpaired surrogate in a string")
                        }
                        at += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate in a string") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(code) {
                        throw fail("unpaired surrogate in a string")
                    }
                    buffer.append(contentsOf: String(Character(Unicode.Scalar(code)!)).utf8)
                default: throw fail("invalid escape in a string")
                }
            }
            throw Failure(offset: start - 1, reason: "unterminated string")
        }

        mutating func hex4() throws -> UInt32 {
            guard at + 4 <= bytes.count else { throw fail("truncated \\u escape") }
            var v: UInt32 = 0
            for i in 0..<4 {
                let c = bytes[at + i]
                let d: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
                default: throw fail("invalid \\u escape")
                }
                v = v << 4 | UInt32(d)
            }
            at += 4
            return v
        }

        mutating func number() throws -> Any {
            let start = at
            if at < bytes.count, bytes[at] == UInt8(ascii: "-") { at += 1 }
            func digits() -> Int {
                let s = at
                while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") { at += 1 }
                return at - s
            }
            let intDigits = digits()
            guard intDigits > 0 else { throw Failure(offset: start, reason: "invalid value") }
            if intDigits > 1 && bytes[at - intDigits] == UInt8(ascii: "0") { throw Failure(offset: start, reason: "leading zero in a number") }
            var integral = true
            if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
                at += 1
                integral = false
                guard digits() > 0 else { throw fail("expected digits after '.'") }
            }
            if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
                at += 1
                integral = false
                if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
                guard digits() > 0 else { throw fail("expected digits in an exponent") }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
            if integral, let i = Int(text) { return i }
            guard let d = Double(text) else { throw Failure(offset: start, reason: "invalid number") }
            return d
        }
    }
}
