// Unlabelled passages for distillation (`ecom-data passages`, input of `ecom-distill`): the texts of the embedded raw
// sample (product titles with their descriptions, reviews, QA contexts) and the UniversalNER sets' passages without
// their labels; JSON Lines of {"language", "source", "text"}.
import Foundation

/// One passage line.
public struct PassageLine: Codable, Sendable, Equatable {
    public var text: String
    /// Where the text came from: `raw-sample/product/p01`, `universal_ner/CrossNER_AI#12`.
    public var source: String
    public var language: String?

    public init(text: String, source: String, language: String? = nil) { self.text = text; self.source = source; self.language = language }
}

public enum PassageCorpus {
    /// The passages of a raw corpus: each product's title and description (one passage, a newline between), each
    /// review's text and each QA context. Queries are left out: a few words each, not passages.
    public static func raw(_ c: RawCorpus) -> [PassageLine] {
        c.products.map { PassageLine(text: $0.title + "\n" + $0.description, source: "\(c.dataset)/product/\($0.id)", language: $0.language) }
            + c.reviews.map { PassageLine(text: $0.text, source: "\(c.dataset)/review/\($0.id)", language: $0.language) }
            + c.questions.map { PassageLine(text: $0.context, source: "\(c.dataset)/qa/\($0.id)", language: $0.language) }
    }

    /// The embedded raw sample's passages.
    public static func rawSample() throws -> [PassageLine] { raw(try RawCorpus.embeddedSample()) }

    /// The passages of every UniversalNER file of a directory (files in name order, passages in file order), without
    /// labels. Note: these are the released evaluation sets; training on them puts test inputs into training.
    public static func universalNER(_ dir: URL) throws -> [PassageLine] {
        var out: [PassageLine] = []
        for file in try UniversalNERSource.files(in: dir) {
            let name = file.deletingPathExtension().lastPathComponent
            for (i, p) in UniversalNERSource.passages(try UniversalNERSource.load(file), dataset: name).enumerated() {
                out.append(PassageLine(text: p.passage, source: "universal_ner/\(name)#\(i)", language: "en"))
            }
        }
        return out
    }

    /// The first line of each distinct text (exact comparison), in order; texts of white space only are left out.
    public static func unique(_ lines: [PassageLine]) -> [PassageLine] {
        var seen = Set<String>()
        return lines.filter { !$0.text.allSatisfy(\.isWhitespace) && seen.insert($0.text).inserted }
    }

    /// JSON Lines, keys sorted, each line ending in a newline.
    public static func jsonLines(_ lines: [PassageLine]) -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out = Data()
        // Encoding strings cannot fail.
        for l in lines { out.append(try! enc.encode(l)); out.append(0x0A) }
        return out
    }
}
