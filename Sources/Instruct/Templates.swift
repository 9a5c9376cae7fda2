// Templates rendering records as prompt and response parts: EcomGPT's evaluation prompt (Alibaba-NLP/EcomGPT),
// UniversalNER's conversation (universal-ner/universal-ner, FastChat's vicuna_v1.1 layout) and a generic Alpaca one.

/// A rendered example: its text as consecutive segments, each either prompt (masked in training) or response (learned).
public struct RenderedExample: Sendable, Equatable {
    public struct Segment: Sendable, Equatable {
        public var text: String
        public var isResponse: Bool
        public init(_ text: String, isResponse: Bool) { self.text = text; self.isResponse = isResponse }
    }
    public var segments: [Segment]
    /// Whether the packer appends the end-of-sequence token (learned) after the text.
    public var appendsEndOfSequence: Bool

    public init(segments: [Segment], appendsEndOfSequence: Bool) {
        self.segments = segments; self.appendsEndOfSequence = appendsEndOfSequence
    }

    /// The whole text.
    public var text: String { segments.map(\.text).joined() }
    /// The text up to the first response segment (the prompt given to a model at evaluation).
    public var prompt: String { segments.prefix { !$0.isResponse }.map(\.text).joined() }
    /// The text from the first response segment on.
    public var response: String { segments.drop { !$0.isResponse }.map(\.text).joined() }

    /// UTF-8 byte ranges of the response segments in `text` (what the packer learns).
    public var responseByteRanges: [Range<Int>] {
        var ranges: [Range<Int>] = []
        var at = 0
        for s in segments {
            let n = s.text.utf8.count
            if s.isResponse && n > 0 { ranges.append(at..<(at + n)) }
            at += n
        }
        return ranges
    }
}

/// EcomGPT's prompt: "Below is an instruction that describes the {defi} task. Write a response that appropriately
/// completes the request.\n" followed by the instruction with `{sentences}` and `{label_set}` filled (the candidate
/// labels joined with the label separator). The instruction ends with "### Response:"; the response is a newline and the
/// answer, then the end-of-sequence token.
public enum EcomGPTTemplate {
    public static func head(definition: String) -> String {
        "Below is an instruction that describes the \(definition) task. Write a response that appropriately completes the request.\n"
    }

    /// The instruction with its placeholders filled. Both are replaced in one left-to-right pass, so that a `{label_set}`
    /// inside the input text is left alone (as Python's `str.format` does).
    public static func fill(_ instruction: String, sentences: String, labelSet: String) -> String {
        var out = ""
        var rest = Substring(instruction)
        while let brace = rest.firstIndex(of: "{") {
            out += rest[..<brace]
            let tail = rest[brace...]
            if tail.hasPrefix("{sentences}") {
                out += sentences; rest = tail.dropFirst("{sentences}".count)
            } else if tail.hasPrefix("{label_set}") {
                out += labelSet; rest = tail.dropFirst("{label_set}".count)
            } else {
                out += "{"; rest = tail.dropFirst()
            }
        }
        return out + rest
    }

    /// The evaluation prompt of a record (head + filled instruction).
    public static func prompt(_ r: InstructionRecord) -> String {
        let labels = (r.candidateLabels ?? []).joined(separator: r.labelSeparator)
        var body = fill(r.prompt, sentences: r.input, labelSet: labels)
        if let c = r.outputConstraints, !c.isEmpty, let marker = body.range(of: "### Response:", options: .backwards) {
            body.insert(contentsOf: c + "\n", at: marker.lowerBound)
        }
        return head(definition: r.taskDescription) + body
    }

    public static func render(_ r: InstructionRecord) -> RenderedExample {
        RenderedExample(segments: [.init(prompt(r), isResponse: false), .init("\n" + r.output, isResponse: true)],
                        appendsEndOfSequence: true)
    }
}

/// UniversalNER's conversation (FastChat vicuna_v1.1: system, then "USER: m ASSISTANT: a</s>" turns separated by one
/// space after user turns and "</s>" after assistant turns). The first user turn is "Text: {passage}", answered
/// "I've read this text."; then one "What describes {type} in the text?" turn per entity type, answered with a JSON list.
/// The dataset-specific variant (supervised multi-task tuning) names the dataset in the first user turn.
public enum UniversalNERTemplate {
    public static let system = "A virtual assistant answers questions from a user based on the provided text."
    public static let readReply = "I've read this text."

    public static func question(type: String) -> String { "What describes \(type) in the text?" }

    /// The first user turn: "Text: {passage}", or with a dataset name the dataset-specific template's
    /// "Dataset: {name} \nText: {passage}" (a space, then a line break).
    // Provenance: Zhou et al. 2023, UniversalNER (arXiv:2308.03279), §4 supervised multi-task, Figure 3's
    // "dataset-specific instruction tuning template": "User: Dataset: D \n Text: X_passage".
    public static func passageTurn(passage: String, dataset: String? = nil) -> String {
        dataset.map { "Dataset: \($0) \nText: \(passage)" } ?? "Text: \(passage)"
    }

    /// All types of a passage in one conversation: `types[i]` answered by `answers[i]` (a JSON list as text), the
    /// dataset named in the first turn when `dataset` is given. Every assistant turn and its "</s>" is a response segment.
    public static func render(passage: String, types: [String], answers: [String], dataset: String? = nil) -> RenderedExample {
        precondition(types.count == answers.count, "one answer per entity type")
        var segs: [RenderedExample.Segment] = [
            .init("\(system) USER: \(passageTurn(passage: passage, dataset: dataset)) ASSISTANT:", isResponse: false),
            .init(" \(readReply)</s>", isResponse: true),
        ]
        for (t, a) in zip(types, answers) {
            segs.append(.init("USER: \(question(type: t)) ASSISTANT:", isResponse: false))
            segs.append(.init(" \(a)</s>", isResponse: true))
        }
        return RenderedExample(segments: segs, appendsEndOfSequence: false)
    }

    /// The evaluation prompt asking about one type (the released model's prompt), ending with "ASSISTANT:".
    public static func prompt(passage: String, type: String) -> String {
        "\(system) USER: Text: \(passage) ASSISTANT: \(readReply)</s>USER: \(question(type: type)) ASSISTANT:"
    }

    /// A `.uniner` record: `candidateLabels` are the types and `output` holds one JSON list per line; the dataset
    /// named when the record has a `promptDataset`.
    public static func render(_ r: InstructionRecord) -> RenderedExample {
        let types = r.candidateLabels ?? []
        var answers = r.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if answers.count < types.count { answers += Array(repeating: "[]", count: types.count - answers.count) }
        return render(passage: r.input, types: types, answers: Array(answers.prefix(types.count)), dataset: r.promptDataset)
    }
}

/// A generic Alpaca-style template for records of our own: instruction (with candidates and constraints), input, response.
public enum AlpacaTemplate {
    public static func prompt(_ r: InstructionRecord) -> String {
        var instruction = r.prompt
        if let c = r.candidateLabels, !c.isEmpty { instruction += "\nCandidates: " + c.joined(separator: r.labelSeparator) }
        if let oc = r.outputConstraints, !oc.isEmpty { instruction += "\n" + oc }
        var s = "Below is an instruction that describes the \(r.taskDescription) task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\n\(instruction)\n\n"
        if !r.input.isEmpty { s += "### Input:\n\(r.input)\n\n" }
        return s + "### Response:"
    }

    public static func render(_ r: InstructionRecord) -> RenderedExample {
        RenderedExample(segments: [.init(prompt(r), isResponse: false), .init("\n" + r.output, isResponse: true)],
                        appendsEndOfSequence: true)
    }
}

extension InstructionRecord {
    /// The record rendered with its own template.
    public func rendered() -> RenderedExample {
        switch template {
        case .ecomgpt: return EcomGPTTemplate.render(self)
        case .uniner: return UniversalNERTemplate.render(self)
        case .alpaca: return AlpacaTemplate.render(self)
        }
    }
}
