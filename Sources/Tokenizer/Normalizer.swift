// Normalizers found in byte-level BPE files: none, NFC, NFKC (and NFD, NFKD), Sequence; with the alignment from
// normalized bytes back to the original text. Reference: HF tokenizers `normalizers::unicode`, `NormalizedString`.
import Foundation

/// One Unicode normalization form.
enum NormalizationForm: String, Sendable {
    case nfc = "NFC", nfkc = "NFKC", nfd = "NFD", nfkd = "NFKD"

    func apply(_ s: String) -> String {
        switch self {
        case .nfc: return s.precomposedStringWithCanonicalMapping
        case .nfkc: return s.decomposedStringWithCompatibilityMapping.precomposedStringWithCanonicalMapping
        case .nfd: return s.decomposedStringWithCanonicalMapping
        case .nfkd: return s.decomposedStringWithCompatibilityMapping
        }
    }
}

/// The normalizer of a file, flattened into the forms it applies in order (empty: none).
struct Normalizer: Sendable {
    let forms: [NormalizationForm]

    init(json: JSONFields?) throws {
        var forms: [NormalizationForm] = []
        if let json { try Self.collect(json, into: &forms) }
        self.forms = forms
    }

    private static func collect(_ json: JSONFields, into forms: inout [NormalizationForm]) throws {
        let type = try json.type()
        if type == "Sequence" {
            for (i, item) in try json.array("normalizers").enumerated() {
                try collect(JSONFields(item, path: json.field("normalizers[\(i)]")), into: &forms)
            }
        } else if let form = NormalizationForm(rawValue: type) {
            forms.append(form)
        } else {
            throw TokenizerError.unsupported(field: json.field("type"), value: type)
        }
    }

    var isIdentity: Bool { forms.isEmpty }

    func normalize(_ s: String) -> String { forms.reduce(s) { $1.apply($0) } }

    /// Normalizes `p[range]`: returns the normalized bytes (the whole range normalized at once, as HF does) and,
    /// for each of them, the original byte range it comes from. The alignment is per scalar when normalizing scalar
    /// by scalar gives the same text, else per extended grapheme cluster when that does; otherwise (forms composing across clusters, such as
    /// compatibility jamo) each byte is aligned to the whole range. HF aligns per character, so offsets through a
    /// normalizer that changes the text may be wider than HF's; ids are identical.
    func normalize(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> (bytes: [UInt8], origin: [Range<Int>]) {
        let text = String(decoding: UnsafeBufferPointer(rebasing: p[range]), as: UTF8.self)
        let whole = Array(normalize(text).utf8)
        var bytes: [UInt8] = []
        var origin: [Range<Int>] = []
        var offset = range.lowerBound
        for scalar in text.unicodeScalars {
            let raw = UTF8.width(scalar)
            for b in normalize(String(scalar)).utf8 { bytes.append(b); origin.append(offset..<(offset + raw)) }
            offset += raw
        }
        if bytes == whole { return (bytes, origin) }
        bytes.removeAll()
        origin.removeAll()
        offset = range.lowerBound
        for cluster in text {
            let raw = cluster.utf8.count
            for b in normalize(String(cluster)).utf8 { bytes.append(b); origin.append(offset..<(offset + raw)) }
            offset += raw
        }
        if bytes != whole { return (whole, Array(repeating: range, count: whole.count)) }
        return (bytes, origin)
    }
}
