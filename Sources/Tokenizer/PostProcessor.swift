// Post-processors of byte-level BPE files: TemplateProcessing (special tokens around a single sequence), ByteLevel
// (offset trimming), Sequence. Reference: HF tokenizers `processors::{template, byte_level, sequence}`.

/// What the post-processor does to a single sequence.
struct PostProcessor: Sendable {
    /// Ids put before and after the sequence when special tokens are added (TemplateProcessing's `single`).
    var prefix: [Int] = []
    var suffix: [Int] = []
    /// ByteLevel's `trim_offsets` (offsets drop leading and trailing spaces of each token) and `add_prefix_space`.
    var trimOffsets = false
    var trimKeepsPrefixSpace = false

    init(json: JSONFields?) throws {
        if let json { try collect(json) }
    }

    private mutating func collect(_ json: JSONFields) throws {
        let type = try json.type()
        switch type {
        case "Sequence":
            for (i, item) in try json.array("processors").enumerated() {
                try collect(JSONFields(item, path: json.field("processors[\(i)]")))
            }
        case "ByteLevel":
            trimOffsets = try json.bool("trim_offsets", default: true)
            trimKeepsPrefixSpace = try json.bool("add_prefix_space", default: true)
        case "TemplateProcessing":
            let specials = try json.object("special_tokens")
            var idsOf: [String: [Int]] = [:]
            for (name, value) in specials.object {
                let entry = try JSONFields(value, path: specials.field(name))
                idsOf[name] = try entry.array("ids").enumerated().map { i, x in
                    guard let n = x as? Int else { throw TokenizerError.malformed(field: entry.field("ids[\(i)]"), reason: "expected an integer") }
                    return n
                }
            }
            var seenSequence = false
            for (i, item) in try json.array("single").enumerated() {
                let piece = try JSONFields(item, path: json.field("single[\(i)]"))
                if piece.object["Sequence"] != nil {
                    seenSequence = true
                } else if let special = try piece.optionalObject("SpecialToken") {
                    let name = try special.string("id")
                    guard let ids = idsOf[name] else {
                        throw TokenizerError.malformed(field: special.field("id"), reason: "\(name) is not in special_tokens")
                    }
                    if seenSequence { suffix += ids } else { prefix += ids }
                } else {
                    throw TokenizerError.malformed(field: piece.path, reason: "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}")
                }
            }
        default:
            throw TokenizerError.unsupported(field: json.field("type"), value: type)
        }
    }
}
