// UniversalNER conversation files (universal-ner/universal-ner, src/eval/test_data): a JSON array of one-type examples,
// grouped here by passage into all-types records.
import Foundation

/// One UniversalNER example: a passage and one entity type with its answer list.
public struct UniversalNERExample: Sendable, Equatable {
    public var id: String
    public var passage: String
    public var type: String
    /// The gold answer as the file writes it (a JSON list as text).
    public var answer: String
    /// The answer's spans (the JSON list parsed).
    public var spans: [String]

    public init(id: String, passage: String, type: String, answer: String, spans: [String]) {
        self.id = id; self.passage = passage; self.type = type; self.answer = answer; self.spans = spans
    }
}

/// A passage with every entity type asked about it, in file order.
public struct UniversalNERPassage: Sendable, Equatable {
    public var dataset: String
    public var passage: String
    public var types: [String]
    public var spans: [[String]]

    public init(dataset: String, passage: String, types: [String], spans: [[String]]) {
        self.dataset = dataset; self.passage = passage; self.types = types; self.spans = spans
    }
}

public enum UniversalNERSource {
    /// Loads one file; errors name the file and the example index.
    public static func load(_ url: URL) throws -> [UniversalNERExample] {
        let any: Any
        do { any = try JSONSerialization.jsonObject(with: readFile(url)) } catch let e as InstructError { throw e } catch {
            throw InstructError("\(url.path): not valid JSON (\(error.localizedDescription))")
        }
        guard let arr = any as? [[String: Any]] else { throw InstructError("\(url.path): expected a JSON array of objects") }
        return try arr.enumerated().map { i, obj in
            let place = "\(url.path): example \(i)"
            guard let conv = obj["conversations"] as? [[String: Any]], conv.count >= 4 else {
                throw InstructError("\(place): expected 'conversations' with 4 turns")
            }
            let values = conv.map { $0["value"] as? String ?? "" }
            guard values[0].hasPrefix("Text: ") else { throw InstructError("\(place): first turn should start with 'Text: '") }
            let q = values[2]
            guard q.hasPrefix("What describes "), q.hasSuffix(" in the text?") else {
                throw InstructError("\(place): third turn should be 'What describes <type> in the text?'")
            }
            let type = String(q.dropFirst("What describes ".count).dropLast(" in the text?".count))
            guard let spans = (try? JSONSerialization.jsonObject(with: Data(values[3].utf8))) as? [Any] else {
                throw InstructError("\(place): answer is not a JSON list")
            }
            return UniversalNERExample(id: obj["id"] as? String ?? "\(i)", passage: String(values[0].dropFirst(6)), type: type,
                                       answer: values[3], spans: spans.map { "\($0)" })
        }
    }

    /// Groups consecutive examples of the same passage.
    public static func passages(_ examples: [UniversalNERExample], dataset: String) -> [UniversalNERPassage] {
        var out: [UniversalNERPassage] = []
        for e in examples {
            if let last = out.last, last.passage == e.passage, !last.types.contains(e.type) {
                out[out.count - 1].types.append(e.type)
                out[out.count - 1].spans.append(e.spans)
            } else {
                out.append(UniversalNERPassage(dataset: dataset, passage: e.passage, types: [e.type], spans: [e.spans]))
            }
        }
        return out
    }

    /// A JSON list of strings as UniversalNER writes answers (`["a", "b"]`, `[]`).
    public static func jsonList(_ items: [String]) -> String {
        "[" + items.map(jsonString).joined(separator: ", ") + "]"
    }

    /// A passage as a `.uniner` record (all its types in one conversation).
    public static func record(_ p: UniversalNERPassage, index: Int, language: String = "en") -> InstructionRecord {
        InstructionRecord(
            id: "UniNER-\(p.dataset)#\(index)", taskDescription: "named entity recognition",
            prompt: "What describes {type} in the text?", input: p.passage, candidateLabels: p.types,
            output: p.spans.map(jsonList).joined(separator: "\n"), template: .uniner,
            provenance: Provenance(dataset: p.dataset, task: "UniNER-\(p.dataset)", taskType: "NER", language: language))
    }

    /// Every `*.json` file of a directory, sorted.
    public static func files(in dir: URL) throws -> [URL] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else {
            throw InstructError("\(dir.path): cannot list the UniversalNER directory")
        }
        return names.filter { $0.hasSuffix(".json") }.sorted().map { dir.appendingPathComponent($0) }
    }
}
