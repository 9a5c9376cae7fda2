// Typed access to the fields of a decoded JSON object, with errors that name the field's path.
import Foundation

/// A JSON object (as `JSONReader` or `JSONSerialization` reads it), remembering its path for error messages.
struct JSONFields {
    let object: [String: Any]
    let path: String

    init(_ value: Any?, path: String) throws {
        guard let object = value as? [String: Any] else {
            throw TokenizerError.malformed(field: path, reason: "expected an object")
        }
        self.object = object
        self.path = path
    }

    func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// True when the key is absent or JSON null.
    func isNull(_ key: String) -> Bool { object[key] == nil || object[key] is NSNull }

    func type() throws -> String { try string("type") }

    func string(_ key: String) throws -> String {
        guard let s = object[key] as? String else {
            throw TokenizerError.malformed(field: field(key), reason: isNull(key) ? "missing" : "expected a string")
        }
        return s
    }

    func optionalString(_ key: String) throws -> String? {
        if isNull(key) { return nil }
        return try string(key)
    }

    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        if isNull(key) { return fallback }
        guard let b = jsonBool(object[key]) else {
            throw TokenizerError.malformed(field: field(key), reason: "expected true or false")
        }
        return b
    }

    func int(_ key: String) throws -> Int {
        guard let v = jsonInt(object[key]) else {
            throw TokenizerError.malformed(field: field(key), reason: isNull(key) ? "missing" : "expected an integer")
        }
        return v
    }

    func object(_ key: String) throws -> JSONFields { try JSONFields(object[key], path: field(key)) }

    func optionalObject(_ key: String) throws -> JSONFields? {
        if isNull(key) { return nil }
        return try object(key)
    }

    func array(_ key: String) throws -> [Any] {
        guard let a = object[key] as? [Any] else {
            throw TokenizerError.malformed(field: field(key), reason: isNull(key) ? "missing" : "expected an array")
        }
        return a
    }
}

/// A JSON boolean: `Bool` from `JSONReader`; from `JSONSerialization` an NSNumber, accepted when it is 0 or 1.
func jsonBool(_ value: Any?) -> Bool? {
    guard let value else { return nil }
    if type(of: value) == Bool.self { return value as? Bool }
    if let i = value as? Int, type(of: value) == Int.self { return i == 0 || i == 1 ? i == 1 : nil }
    if let n = value as? NSNumber, n.doubleValue == 0 || n.doubleValue == 1 { return n.boolValue }
    return nil
}

/// A JSON integer: `Int`, a `Double` with an integral value, or an NSNumber holding one.
func jsonInt(_ value: Any?) -> Int? {
    guard let value else { return nil }
    if type(of: value) == Int.self { return value as? Int }
    if type(of: value) == Double.self, let d = value as? Double { return Int(exactly: d) }
    if type(of: value) == Bool.self { return nil }
    if let n = value as? NSNumber { return Int(exactly: n.doubleValue) }
    return nil
}

/// Escapes a string for a JSON document (quotes included), leaving non-ASCII text as UTF-8.
func jsonQuoted(_ s: String) -> String {
    var out = "\""
    out.reserveCapacity(s.utf8.count + 2)
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += String(format: "\\u%04x", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    out += "\""
    return out
}
