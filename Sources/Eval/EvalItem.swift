// Evaluation examples: EcomGPT's held-out tasks rendered with the paper's evaluation prompt (head + test_prompt,
// Alibaba-NLP/EcomGPT) and UniversalNER's sets with the released model's conversation prompt (universal-ner).
import EcomInstruct
import EcomTokenizer
import Foundation

/// Which benchmark an example belongs to (decides decoding, answer extraction and scoring).
public enum EvalSuite: String, Codable, Sendable, CaseIterable {
    case ecomgpt
    case uniner
}

/// One example to evaluate: the prompt given to the model and the gold answer.
public struct EvalItem: Sendable, Equatable {
    /// The task name: the EcomGPT task folder, or "UniNER-<dataset>".
    public var task: String
    /// Unique within the task ("<index>" for EcomGPT, "<index>:<type>" for UniversalNER).
    public var id: String
    public var suite: EvalSuite
    /// EcomGPT's task type ("CLS", "Extract", "Condition_Extract", "Generate", "NER"; "NER" for UniversalNER).
    public var taskType: String
    /// The rendered prompt, before tokenisation and truncation.
    public var prompt: String
    public var reference: String
    /// The input text (NER scoring labels its characters).
    public var text: String
    public var labelSeparator: String
    /// The prompt as chat turns, for models with a chat template (the last turn is the user's question).
    public var turns: [ChatMessage]
    /// New tokens at most for this example (nil: the suite's setting; set per task by `--max-new-tokens auto`).
    public var maxNewTokens: Int?

    public init(task: String, id: String, suite: EvalSuite, taskType: String, prompt: String, reference: String,
                text: String, labelSeparator: String = ", ", turns: [ChatMessage]? = nil) {
        self.task = task; self.id = id; self.suite = suite; self.taskType = taskType; self.prompt = prompt
        self.reference = reference; self.text = text; self.labelSeparator = labelSeparator
        self.turns = turns ?? [ChatMessage(role: "user", content: prompt)]
    }

    /// The prompt text for a model with `template`: the papers' text with `.plain`, else the turns rendered with the
    /// template and the assistant's turn opened.
    public func promptText(_ template: ChatTemplate) -> String {
        template.kind == .plain ? prompt : template.render(turns, addGenerationPrompt: true)
    }

    /// The key identifying the example across runs.
    public var key: String { task + "\u{1F}" + id }
}

public enum EvalItems {
    /// The key of the seeded generator that samples an example's classification candidates.
    static func candidateKey(task: String, index: Int) -> String { "eval-candidates/\(task)#\(index)" }

    /// Examples of one EcomGPT task, the first `limit` (all when nil), prompts as the paper's evaluation renders them:
    /// the head with the task definition, then `test_prompt.instruction` with `{sentences}` and `{label_set}` filled.
    /// Classification tasks show candidates sampled as EcomGPT's `task_cls.py` does (label set shuffled, a random
    /// prefix joined with the gold labels, shuffled), seeded per example with `seed`; other tasks show the label set
    /// in file order. With `supervised`, only the task's test part (the examples a supervised build held back, in the
    /// split's order) is evaluated; ids stay the examples' indices in the file. `budget`, when given, sets every
    /// item's ``EvalItem/maxNewTokens`` from the reference answers of all the task's examples (``AnswerBudget``).
    public static func ecomGPT(_ task: EcomGPTTask, limit: Int? = nil, seed: UInt64, supervised: SupervisedSplit? = nil,
                               budget: (([String]) -> Int)? = nil) -> [EvalItem] {
        let indices = supervised?.testIndices(task: task.name, count: task.examples.count) ?? Array(task.examples.indices)
        let maxNewTokens = budget.map { $0(task.examples.map(task.answer(for:))) }
        return indices.prefix(limit ?? Int.max).map { i in
            let ex = task.examples[i]
            var record = task.record(i)
            if task.taskType == "CLS" {
                var rng = SeededGenerator(seed: seed, key: candidateKey(task: task.name, index: i))
                record.candidateLabels = CandidateSampler.sample(labels: task.candidates(for: ex), gold: ex.labels ?? [], using: &rng)
            }
            var item = EvalItem(task: task.name, id: "\(i)", suite: .ecomgpt, taskType: task.taskType,
                                prompt: EcomGPTTemplate.prompt(record), reference: task.answer(for: ex), text: ex.sentences,
                                labelSeparator: task.labelSeparator)
            item.maxNewTokens = maxNewTokens
            return item
        }
    }

    /// The held-out EcomGPT tasks named in `tasksFile` (one folder name a line; `held_out_tasks.txt` by default),
    /// loaded from the task folders under `root`, in the file's order. Errors name unknown tasks.
    public static func ecomGPT(root: URL, tasksFile: URL? = nil, limit: Int? = nil, seed: UInt64,
                               supervised: SupervisedSplit? = nil, budget: (([String]) -> Int)? = nil) throws -> [EvalItem] {
        let listURL = tasksFile ?? root.appendingPathComponent("held_out_tasks.txt")
        guard let list = try? String(contentsOf: listURL, encoding: .utf8) else {
            throw EvalError("\(listURL.path): cannot read the task list")
        }
        let names = list.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let folders = Dictionary(try EcomGPTTask.taskFolders(in: root).map { ($0.lastPathComponent, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [EvalItem] = []
        for name in names {
            guard let dir = folders[name] else { throw EvalError("\(listURL.path): task '\(name)' has no folder under \(root.path)") }
            out += ecomGPT(try EcomGPTTask.load(dir), limit: limit, seed: seed, supervised: supervised, budget: budget)
        }
        return out
    }

    /// UniversalNER examples of one file (one question per entity type, as released), the first `limit` when given,
    /// with the released model's prompt (system line, the passage turn answered "I've read this text.", the question).
    /// `balanced` with a limit takes the first limit/2 questions whose answer names entities and the first ones with
    /// an empty answer (`[]`) for the rest, in file order: most released questions have empty answers (86% in
    /// CrossNER_AI), so a plain prefix would score mostly on abstentions. Ids keep the file's indices.
    public static func uniNER(_ examples: [UniversalNERExample], dataset: String, limit: Int? = nil, balanced: Bool = false) -> [EvalItem] {
        var chosen = Array(examples.enumerated().prefix(limit ?? Int.max))
        if balanced, let limit {
            let isEmpty = { (e: UniversalNERExample) in e.answer.filter { !$0.isWhitespace } == "[]" }
            let bearing = examples.enumerated().filter { !isEmpty($0.element) }.prefix((limit + 1) / 2)
            let empty = examples.enumerated().filter { isEmpty($0.element) }.prefix(limit - bearing.count)
            chosen = (Array(bearing) + Array(empty)).sorted { $0.offset < $1.offset }
        }
        return chosen.map { i, e in
            EvalItem(task: "UniNER-\(dataset)", id: "\(i):\(e.type)", suite: .uniner, taskType: "NER",
                     prompt: UniversalNERTemplate.prompt(passage: e.passage, type: e.type), reference: e.answer, text: e.passage,
                     turns: [ChatMessage(role: "system", content: UniversalNERTemplate.system),
                             ChatMessage(role: "user", content: "Text: \(e.passage)"),
                             ChatMessage(role: "assistant", content: UniversalNERTemplate.readReply),
                             ChatMessage(role: "user", content: UniversalNERTemplate.question(type: e.type))])
        }
    }

    /// Every `*.json` set of a UniversalNER directory, sorted by name; only the sets named in `files` (file names
    /// without `.json`) when given. Errors name a set that is not there.
    public static func uniNER(directory: URL, limit: Int? = nil, files names: [String]? = nil, balanced: Bool = false) throws -> [EvalItem] {
        var files = try UniversalNERSource.files(in: directory)
        if let names {
            let present = Set(files.map { $0.deletingPathExtension().lastPathComponent })
            if let missing = names.first(where: { !present.contains($0) }) {
                throw EvalError("\(directory.path): no UniversalNER set '\(missing).json'")
            }
            files = files.filter { names.contains($0.deletingPathExtension().lastPathComponent) }
        }
        return try files.flatMap { file in
            uniNER(try UniversalNERSource.load(file), dataset: file.deletingPathExtension().lastPathComponent, limit: limit, balanced: balanced)
        }
    }
}

/// An evaluation error with a message naming the file or setting at fault.
public struct EvalError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ message: String) { description = message }
}
