// Decoders: ByteLevel (tokens -> bytes through the byte-level alphabet -> lossy UTF-8), or none (tokens joined by
// spaces). Reference: HF tokenizers `decoders::byte_level` and `Tokenizer::decode`.

/// The decoder of a file.
enum DecoderKind: Sendable {
    case byteLevel
    case none

    init(json: JSONFields?) throws {
        guard let json else { self = .none; return }
        let type = try json.type()
        switch type {
        case "ByteLevel": self = .byteLevel
        case "Sequence":
            let items = try json.array("decoders")
            guard items.count == 1 else {
                throw TokenizerError.unsupported(field: json.field("decoders"), value: "a Sequence other than [ByteLevel]")
            }
            self = try DecoderKind(json: JSONFields(items[0], path: json.field("decoders[0]")))
        default:
            throw TokenizerError.unsupported(field: json.field("type"), value: type)
        }
    }
}
