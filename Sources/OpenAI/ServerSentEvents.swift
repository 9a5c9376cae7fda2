// Server-sent events as OpenAI streams them: `data: {json}\n\n` per chunk, `data: [DONE]\n\n` at the end. The parser
// follows the WHATWG HTML "event stream" interpretation: lines end in LF, CRLF or CR; a blank line dispatches the event;
// `:` starts a comment; one space after the field's colon is dropped; several `data` lines join with LF.
import Foundation

extension OpenAI {
    /// One server-sent event: `data: <json>` and a blank line.
    public static func sseEvent(_ value: some Encodable) -> Data {
        var d = Data("data: ".utf8)
        d.append(json(value))
        d.append(contentsOf: [0x0A, 0x0A])
        return d
    }

    /// The event that ends an OpenAI stream.
    public static let sseDone = Data("data: [DONE]\n\n".utf8)

    /// A dispatched event: its `data` (lines joined with "\n"), `event` name and `id` when given.
    public struct ServerSentEvent: Sendable, Equatable {
        public var data: String
        public var event: String?
        public var id: String?

        public init(data: String, event: String? = nil, id: String? = nil) { self.data = data; self.event = event; self.id = id }

        /// OpenAI's end of stream (`data: [DONE]`).
        public var isDone: Bool { data == "[DONE]" }

        /// The data decoded as JSON of `T` (a chunk).
        public func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(T.self, from: Data(data.utf8)) }
    }

    /// Splits a byte stream into events; feed it bytes as they arrive (a line or an event may span feeds).
    public struct SSEParser: Sendable {
        private var buffer: [UInt8] = []
        private var data: [String] = []
        private var hasData = false
        private var event: String?
        private var id: String?

        public init() {}

        /// The events completed by `bytes`.
        public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
            buffer.append(contentsOf: bytes)
            var out: [ServerSentEvent] = []
            var start = 0
            var i = 0
            while i < buffer.count {
                let b = buffer[i]
                if b == 0x0A || b == 0x0D {
                    // A CR at the end of the buffer may be the first half of a CRLF: wait for the next byte.
                    if b == 0x0D && i + 1 == buffer.count { break }
                    let line = String(decoding: buffer[start..<i], as: UTF8.self)
                    if let e = take(line) { out.append(e) }
                    i += (b == 0x0D && buffer[i + 1] == 0x0A) ? 2 : 1
                    start = i
                } else {
                    i += 1
                }
            }
            buffer.removeFirst(start)
            return out
        }

        /// The events of a whole body (a last event without its blank line is dispatched too, as clients do when
        /// a connection closes cleanly).
        public mutating func finish() -> [ServerSentEvent] {
            var out: [ServerSentEvent] = []
            if !buffer.isEmpty {
                let rest = buffer
                buffer = []
                var line = String(decoding: rest, as: UTF8.self)
                if line.hasSuffix("\r") { line.removeLast() }
                if let e = take(line) { out.append(e) }
            }
            if let e = take("") { out.append(e) }
            return out
        }

        /// Parses a whole body at once.
        public static func events(in body: Data) -> [ServerSentEvent] {
            var p = SSEParser()
            return p.feed(body) + p.finish()
        }

        private mutating func take(_ line: String) -> ServerSentEvent? {
            if line.isEmpty {
                defer { data = []; hasData = false; event = nil }
                guard hasData else { return nil }
                return ServerSentEvent(data: data.joined(separator: "\n"), event: event, id: id)
            }
            if line.hasPrefix(":") { return nil }
            let field: Substring
            var value: Substring
            if let colon = line.firstIndex(of: ":") {
                field = line[..<colon]
                value = line[line.index(after: colon)...]
                if value.hasPrefix(" ") { value = value.dropFirst() }
            } else {
                field = line[...]
                value = ""
            }
            switch field {
            case "data": data.append(String(value)); hasData = true
            case "event": event = String(value)
            case "id": id = String(value)
            default: break  // "retry" and unknown fields are ignored
            }
            return nil
        }
    }
}
