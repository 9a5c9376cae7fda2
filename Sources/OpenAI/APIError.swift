// OpenAI's error body, `{"error": {"message", "type", "param", "code"}}` with `param` and `code` written as null when
// absent, and the HTTP status it goes with. Types as OpenAI's error-code guide lists them: invalid_request_error (400,
// 401 with code invalid_api_key, 404, 413), rate_limit_error (429, code rate_limit_exceeded), server_error (500),
// service_unavailable_error (503, code server_is_overloaded).
import Foundation

extension OpenAI {
    /// An API error: the HTTP status and OpenAI's error object.
    public struct APIError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
        /// The HTTP status (not part of the body: ``decode(status:body:)`` takes it from the response).
        public var status: Int
        public var message: String
        public var type: String
        public var param: String?
        public var code: String?

        public init(status: Int, message: String, type: String, param: String? = nil, code: String? = nil) {
            self.status = status; self.message = message; self.type = type; self.param = param; self.code = code
        }

        /// 400 `invalid_request_error`: a malformed body or a parameter out of range.
        public static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
            APIError(status: 400, message: message, type: "invalid_request_error", param: param, code: code)
        }

        /// 401: a missing or wrong API key (OpenAI writes type `invalid_request_error`, code `invalid_api_key`).
        public static func authentication(_ message: String = "Incorrect API key provided.") -> APIError {
            APIError(status: 401, message: message, type: "invalid_request_error", code: "invalid_api_key")
        }

        /// 404: an unknown path, or an unknown model (`code: "model_not_found"`, `param: "model"`).
        public static func notFound(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
            APIError(status: 404, message: message, type: "invalid_request_error", param: param, code: code)
        }

        /// 413: the request body is larger than the server takes.
        public static func tooLarge(_ message: String) -> APIError {
            APIError(status: 413, message: message, type: "invalid_request_error", code: "request_too_large")
        }

        /// 429 `rate_limit_error`, code `rate_limit_exceeded` (the server is busy; clients retry).
        public static func rateLimited(_ message: String = "Rate limit reached; too many requests in flight. Retry later.") -> APIError {
            APIError(status: 429, message: message, type: "rate_limit_error", code: "rate_limit_exceeded")
        }

        /// 500 `server_error`.
        public static func server(_ message: String = "The server had an error while processing your request.") -> APIError {
            APIError(status: 500, message: message, type: "server_error")
        }

        /// 503 `service_unavailable_error`, code `server_is_overloaded` (starting up, shutting down or overloaded).
        public static func unavailable(_ message: String = "The server is overloaded or not ready yet. Retry later.") -> APIError {
            APIError(status: 503, message: message, type: "service_unavailable_error", code: "server_is_overloaded")
        }

        /// 405: a path that exists, called with another method.
        public static func methodNotAllowed(_ message: String) -> APIError {
            APIError(status: 405, message: message, type: "invalid_request_error")
        }

        public var description: String {
            var s = "HTTP \(status) \(type)"
            if let code { s += " (\(code))" }
            if let param { s += " [param \(param)]" }
            return s + ": " + message
        }

        /// The body a server sends: `{"error": {"code", "message", "param", "type"}}`, null `param`/`code` when nil.
        public func body() -> Data { OpenAI.json(self) }

        /// Reads an error body sent with `status`: OpenAI's `{"error": {...}}` (a missing `type` is taken from the
        /// status), or `{"error": "message"}` as some servers write it. Nil when the body is neither.
        public static func decode(status: Int, body: Data) -> APIError? {
            guard let any = try? JSONSerialization.jsonObject(with: body), let obj = any as? [String: Any] else { return nil }
            if let s = obj["error"] as? String { return APIError(status: status, message: s, type: defaultType(status: status)) }
            guard let e = obj["error"] as? [String: Any] else { return nil }
            func text(_ v: Any?) -> String? {
                switch v {
                case let s as String: return s
                case let n as NSNumber: return n.stringValue
                default: return nil
                }
            }
            return APIError(status: status, message: text(e["message"]) ?? "", type: text(e["type"]) ?? defaultType(status: status),
                            param: text(e["param"]), code: text(e["code"]))
        }

        /// The error type OpenAI uses for a status.
        public static func defaultType(status: Int) -> String {
            switch status {
            case 429: return "rate_limit_error"
            case 503: return "service_unavailable_error"
            case 500...: return "server_error"
            default: return "invalid_request_error"
            }
        }

        enum Envelope: String, CodingKey { case error }
        enum CodingKeys: String, CodingKey { case message, type, param, code }

        /// Encodes the body's envelope; `status` is not written.
        public func encode(to encoder: any Encoder) throws {
            var outer = encoder.container(keyedBy: Envelope.self)
            var c = outer.nestedContainer(keyedBy: CodingKeys.self, forKey: .error)
            try c.encode(message, forKey: .message)
            try c.encode(type, forKey: .type)
            try c.encode(param, forKey: .param)   // null when nil, as OpenAI writes it
            try c.encode(code, forKey: .code)
        }

        /// Decodes the body's envelope. The status is not in the body: it is the decoder's
        /// `userInfo[APIError.statusKey]` when set, else 0 (use ``decode(status:body:)`` with a response).
        public init(from decoder: any Decoder) throws {
            let outer = try decoder.container(keyedBy: Envelope.self)
            let c = try outer.nestedContainer(keyedBy: CodingKeys.self, forKey: .error)
            status = decoder.userInfo[APIError.statusKey] as? Int ?? 0
            message = try c.decodeIfPresent(String.self, forKey: .message) ?? ""
            type = try c.decodeIfPresent(String.self, forKey: .type) ?? APIError.defaultType(status: status)
            param = try c.decodeIfPresent(String.self, forKey: .param)
            code = try c.decodeIfPresent(String.self, forKey: .code)
        }

        /// The `userInfo` key of a decoder that gives the HTTP status to ``init(from:)``.
        public static let statusKey = CodingUserInfoKey(rawValue: "EcomOpenAI.APIError.status")!

        /// A decoding error of a request body as OpenAI's 400: the parameter named as `messages[0].content`; for a body
        /// that is not JSON, the parser's problem and its line and column (from `body`).
        public static func decoding(_ error: any Error, body: Data? = nil) -> APIError {
            guard let e = error as? DecodingError else {
                return .invalidRequest("We could not parse the JSON body of your request: \(error)")
            }
            switch e {
            case let .keyNotFound(key, ctx):
                let p = path(ctx.codingPath + [key])
                return .invalidRequest("Missing required parameter: '\(p)'.", param: p, code: "missing_required_parameter")
            case let .typeMismatch(type, ctx):
                let p = path(ctx.codingPath)
                if p.isEmpty {
                    return .invalidRequest("The request body must be a JSON object.", code: "invalid_type")
                }
                let expected = ctx.debugDescription.hasPrefix("Expected ") ? String(ctx.debugDescription.dropFirst(9)) : typeName(type)
                return .invalidRequest("Invalid type for '\(p)': expected \(expected).", param: p, code: "invalid_type")
            case let .valueNotFound(type, ctx):
                let p = path(ctx.codingPath)
                return .invalidRequest("Invalid type for '\(p)': expected \(typeName(type)), but got null instead.",
                                       param: p, code: "invalid_type")
            case let .dataCorrupted(ctx):
                let p = path(ctx.codingPath)
                if p.isEmpty {
                    let detail = body.flatMap(syntaxProblem) ?? ctx.underlyingError.map { underlyingText($0) } ?? ctx.debugDescription
                    return .invalidRequest("We could not parse the JSON body of your request: \(detail)")
                }
                return .invalidRequest("Invalid value for '\(p)': \(ctx.debugDescription).", param: p, code: "invalid_value")
            @unknown default:
                return .invalidRequest("We could not parse the JSON body of your request: \(e)")
            }
        }

        /// `messages[0].content` from a coding path.
        static func path(_ keys: [any CodingKey]) -> String {
            var s = ""
            for k in keys {
                if let i = k.intValue, k.stringValue.hasPrefix("Index") || k.stringValue == "\(i)" {
                    s += "[\(i)]"
                } else {
                    s += s.isEmpty ? k.stringValue : "." + k.stringValue
                }
            }
            return s
        }

        static func typeName(_ type: Any.Type) -> String {
            switch type {
            case is String.Type: return "a string"
            case is Int.Type: return "an integer"
            case is Double.Type, is Float.Type: return "a number"
            case is Bool.Type: return "a boolean"
            default:
                let n = String(describing: type)
                if n.hasPrefix("Array") || n.hasPrefix("[") { return "an array" }
                return "an object"
            }
        }

        /// What is wrong with a body that is not JSON, with the line and column: JSONSerialization's description
        /// ("Invalid value around character 29.", or on Darwin "... around line 2, column 15."), the byte offset
        /// turned into a 1-based line and column when the description gives only the offset. Nil when it parses.
        static func syntaxProblem(_ body: Data) -> String? {
            do { _ = try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]); return nil } catch {
                var text = underlyingText(error)
                if text.hasSuffix(".") { text.removeLast() }
                guard !text.contains("line"), let r = text.range(of: #"character (\d+)"#, options: .regularExpression),
                      let offset = Int(text[r].dropFirst("character ".count)) else { return text + "." }
                let bytes = [UInt8](body.prefix(offset))
                let line = bytes.filter { $0 == 0x0A }.count + 1
                let column = offset - (bytes.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
                return text + " (line \(line), column \(column))."
            }
        }

        /// The parser's own message (it names the line and column), without NSError's wrapping.
        static func underlyingText(_ error: any Error) -> String {
            let ns = error as NSError
            if let d = ns.userInfo[NSDebugDescriptionErrorKey] as? String { return d }
            return String(describing: error)
        }
    }
}
