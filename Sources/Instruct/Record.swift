// Instruction records with EcomGPT's six parts plus provenance, and their JSON Lines codec (Docs/FORMATS.md).
import Foundation

/// Which template renders a record (see `Templates.swift`).
public enum TemplateKind: String, Codable, Sendable, CaseIterable {
    /// EcomGPT's evaluation prompt: the head with the task definition, then `prompt` with `{sentences}` and `{label_set}` filled.
    case ecomgpt
    /// UniversalNER's conversation; `candidateLabels` are the entity types asked, `output` one JSON list per line.
    case uniner
    /// A generic Alpaca-style instruction / input / response template for records of our own.
    case alpaca
}

/// The data split a record belongs to.
public enum Split: String, Codable, Sendable, CaseIterable {
    case train, validation, test
}

/// Where a record came from.
public struct Provenance: Codable, Sendable, Equatable, Hashable {
    /// The source dataset (`ABSA`, `CrossNER_AI`, `raw-sample`, ...).
    public var dataset: String
    /// The task name (EcomGPT's task folder name, or a name of our own); held-out lists name these.
    public var task: String
    /// The task type: `CLS`, `Extract`, `Condition_Extract`, `Generate`, `NER`.
    public var taskType: String
    /// The atomic-task generator that made the record, or nil for a primary record.
    public var atomicKind: String?
    /// `en` or `zh`.
    public var language: String
    /// The split, assigned by `SplitAssigner`.
    public var split: Split

    public init(dataset: String, task: String, taskType: String, atomicKind: String? = nil, language: String, split: Split = .train) {
        self.dataset = dataset; self.task = task; self.taskType = taskType
        self.atomicKind = atomicKind; self.language = language; self.split = split
    }

    enum CodingKeys: String, CodingKey {
        case dataset, task, language, split
        case taskType = "task_type", atomicKind = "atomic_kind"
    }
}

/// One instruction example: EcomGPT's six parts (task description, prompt, input text, candidate labels, output
/// constraints, output) plus the template that renders it, the label separator and its provenance.
public struct InstructionRecord: Codable, Sendable, Equatable {
    /// A stable identifier, unique within a build (`<task>#<index>[/<atomic kind>]`).
    public var id: String
    /// The task description (EcomGPT's `defi`), used in the prompt head.
    public var taskDescription: String
    /// The instruction. For `.ecomgpt` records, EcomGPT's `test_prompt.instruction` with `{sentences}` and `{label_set}`.
    public var prompt: String
    /// The input text (EcomGPT's `sentences`; UniversalNER's passage).
    public var input: String
    /// Candidate labels (CLS labels, NER types, attribute names), in the order they are shown; nil when none.
    public var candidateLabels: [String]?
    /// Output constraints (for example "Output the document content only."); nil when none.
    public var outputConstraints: String?
    /// The expected answer.
    public var output: String
    /// The template that renders the record.
    public var template: TemplateKind
    /// The separator between labels and spans (EcomGPT's `label_sep`).
    public var labelSeparator: String
    /// Where the record came from.
    public var provenance: Provenance
    /// The dataset a `.uniner` record's conversation names (UniversalNER's dataset-specific template, see
    /// ``UniversalNERTemplate/passageTurn(passage:dataset:)``); nil, and absent from the JSON as in records written
    /// before it existed: the plain released conversation. Other templates ignore it.
    public var promptDataset: String?

    public init(id: String, taskDescription: String, prompt: String, input: String, candidateLabels: [String]? = nil,
                outputConstraints: String? = nil, output: String, template: TemplateKind, labelSeparator: String = ", ",
                provenance: Provenance, promptDataset: String? = nil) {
        self.id = id; self.taskDescription = taskDescription; self.prompt = prompt; self.input = input
        self.candidateLabels = candidateLabels; self.outputConstraints = outputConstraints; self.output = output
        self.template = template; self.labelSeparator = labelSeparator; self.provenance = provenance
        self.promptDataset = promptDataset
    }

    enum CodingKeys: String, CodingKey {
        case id, prompt, input, output, template, provenance
        case taskDescription = "task_description", candidateLabels = "candidate_labels"
        case outputConstraints = "output_constraints", labelSeparator = "label_sep", promptDataset = "prompt_dataset"
    }
}

/// Reads and writes records as JSON Lines: one JSON object per line, UTF-8, keys sorted.
public enum RecordCodec {
    /// One record as a JSON line (without the newline).
    public static func encode(_ record: InstructionRecord) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a value of plain strings and arrays cannot fail.
        return try! encoder.encode(record)
    }

    /// One record from a JSON object's bytes; `place` names the file and line for the error.
    public static func decode(_ data: Data, place: String) throws -> InstructionRecord {
        do {
            return try JSONDecoder().decode(InstructionRecord.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw InstructError("\(place): record lacks the field '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx) {
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw InstructError("\(place): field '\(path)' has the wrong type (\(ctx.debugDescription))")
        } catch let DecodingError.dataCorrupted(ctx) {
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw InstructError("\(place): not a valid record\(path.isEmpty ? "" : " at '\(path)'"): \(ctx.debugDescription)")
        } catch {
            throw InstructError("\(place): not a valid record: \(error)")
        }
    }

    /// Records as JSON Lines text (each line ends with a newline).
    public static func encodeLines(_ records: [InstructionRecord]) -> Data {
        var out = Data()
        for r in records { out.append(encode(r)); out.append(0x0A) }
        return out
    }

    /// Records from JSON Lines; blank lines are skipped; an error names `name` and the 1-based line number.
    public static func decodeLines(_ data: Data, name: String) throws -> [InstructionRecord] {
        var records: [InstructionRecord] = []
        try forEachLine(data) { line, number in
            records.append(try decode(line, place: "\(name):\(number)"))
        }
        return records
    }
}

/// Calls `body` with each non-blank line of `data` (without its newline) and its 1-based line number.
public func forEachLine(_ data: Data, _ body: (Data, Int) throws -> Void) rethrows {
    var number = 0
    var start = data.startIndex
    while start < data.endIndex {
        number += 1
        let end = data[start...].firstIndex(of: 0x0A) ?? data.endIndex
        var line = data[start..<end]
        if line.last == 0x0D { line = line.dropLast() }
        if line.contains(where: { $0 != 0x20 && $0 != 0x09 }) { try body(Data(line), number) }
        start = end < data.endIndex ? data.index(after: end) : end
    }
}

/// Reads a whole file, with an error naming it.
func readFile(_ url: URL) throws -> Data {
    do { return try Data(contentsOf: url) } catch {
        throw InstructError("\(url.path): cannot read (\(error.localizedDescription))")
    }
}

/// Writes `data` atomically: a temporary file in the same directory, then a rename over the destination.
public func writeAtomically(_ data: Data, to url: URL) throws {
    let dir = url.deletingLastPathComponent()
    let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)")
    do {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try data.write(to: tmp)
        // rename(2) replaces the destination in one step: readers see the old file or the new one, never a part.
        guard rename(tmp.path, url.path) == 0 else { throw InstructError(String(cString: strerror(errno))) }
    } catch {
        try? FileManager.default.removeItem(at: tmp)
        throw InstructError("\(url.path): cannot write (\(error.localizedDescription))")
    }
}

/// A JSON string literal: quotes, backslashes and control characters escaped, other characters kept as they are.
public func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}
