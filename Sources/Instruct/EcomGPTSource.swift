// EcomGPT task folders (Alibaba-NLP/EcomGPT, data/ecom_instruct_v1): meta-info.json + test.json, turned into records.
import Foundation

/// One EcomGPT task folder `<LANG>-<Dataset>-<TaskType>-<name>` with its meta information and examples.
public struct EcomGPTTask: Sendable {
    /// The folder name, used as the task name (meta-info's own `task` field is sometimes stale).
    public var name: String
    public var dataset: String
    public var taskType: String
    public var language: String
    /// `defi`: the task definition used in the prompt head.
    public var definition: String
    /// `test_prompt.instruction`, with `{sentences}` and `{label_set}`.
    public var instruction: String
    /// `label_set[label_key]`, in the file's order (empty when the task has none).
    public var labelSet: [String]
    /// `label_key` (nil when absent).
    public var labelKey: String?
    public var labelSeparator: String
    public var examples: [Example]

    /// A span answer (`term`, `start`, `end`, optional `type`).
    public struct Span: Sendable, Equatable {
        public var term: String
        public var type: String?
    }

    /// One line of test.json.
    public struct Example: Sendable {
        public var sentences: String
        /// The line's own `label_set` when it has one with a non-empty label.
        public var labelSet: [String]?
        /// `labels[label_key]` for CLS lines.
        public var labels: [String]?
        public var spans: [Span]?
    }

    /// Loads `dir` (a task folder holding meta-info.json and test.json); errors name the file and line.
    public static func load(_ dir: URL) throws -> EcomGPTTask {
        let name = dir.lastPathComponent
        let parts = name.split(separator: "-", maxSplits: 3).map(String.init)
        guard parts.count == 4 else {
            throw InstructError("\(dir.path): task folder name should be <LANG>-<Dataset>-<TaskType>-<name>")
        }
        let metaURL = dir.appendingPathComponent("meta-info.json")
        let metaAny: Any
        do { metaAny = try JSONSerialization.jsonObject(with: readFile(metaURL)) } catch let e as InstructError { throw e } catch {
            throw InstructError("\(metaURL.path): not valid JSON (\(error.localizedDescription))")
        }
        guard let meta = metaAny as? [String: Any] else { throw InstructError("\(metaURL.path): expected a JSON object") }
        guard let defi = meta["defi"] as? String else { throw InstructError("\(metaURL.path): missing string field 'defi'") }
        guard let tp = meta["test_prompt"] as? [String: Any], let instruction = tp["instruction"] as? String else {
            throw InstructError("\(metaURL.path): missing 'test_prompt.instruction'")
        }
        let labelKey = meta["label_key"] as? String
        var labelSet: [String] = []
        if let key = labelKey {
            guard let sets = meta["label_set"] as? [String: Any], let list = sets[key] as? [String] else {
                throw InstructError("\(metaURL.path): 'label_set' has no list for label_key '\(key)'")
            }
            labelSet = list
        }
        var task = EcomGPTTask(
            name: name, dataset: parts[1], taskType: parts[2], language: parts[0].lowercased(), definition: defi,
            instruction: instruction, labelSet: labelSet, labelKey: labelKey,
            labelSeparator: meta["label_sep"] as? String ?? ", ", examples: [])
        let testURL = dir.appendingPathComponent("test.json")
        try forEachLine(readFile(testURL)) { line, number in
            task.examples.append(try task.parseExample(line, place: "\(testURL.path):\(number)"))
        }
        return task
    }

    func parseExample(_ line: Data, place: String) throws -> Example {
        guard let obj = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] else {
            throw InstructError("\(place): not a JSON object")
        }
        guard let sentences = obj["sentences"] as? String else { throw InstructError("\(place): missing string field 'sentences'") }
        var ex = Example(sentences: sentences)
        if let ls = obj["label_set"] as? [String], ls.contains(where: { !$0.isEmpty }) { ex.labelSet = ls }
        if let labels = obj["labels"] {
            guard let map = labels as? [String: Any], let key = labelKey, let list = map[key] as? [String] else {
                throw InstructError("\(place): 'labels' has no list for label_key '\(labelKey ?? "(none)")'")
            }
            ex.labels = list
        }
        if let spans = obj["spans"] {
            guard let arr = spans as? [[String: Any]] else { throw InstructError("\(place): 'spans' should be a list of objects") }
            ex.spans = try arr.enumerated().map { i, s in
                guard let term = s["term"] as? String else { throw InstructError("\(place): spans[\(i)] lacks 'term'") }
                return Span(term: term, type: s["type"] as? String)
            }
        }
        if ex.labels == nil && ex.spans == nil { throw InstructError("\(place): line has neither 'labels' nor 'spans'") }
        return ex
    }

    /// The candidate labels shown for an example: its own label set if it has one, else the task's (file order).
    public func candidates(for ex: Example) -> [String] { ex.labelSet ?? labelSet }

    /// The answer as EcomGPT formats it: labels or span terms joined with the label separator; for NER one line per
    /// label in label-set order, `type: span1, span2` or `type: None`.
    public func answer(for ex: Example) -> String {
        if let labels = ex.labels { return labels.joined(separator: labelSeparator) }
        let spans = ex.spans ?? []
        if taskType == "NER" {
            return candidates(for: ex).map { label in
                let terms = spans.filter { $0.type == label }.map(\.term)
                return "\(label): " + (terms.isEmpty ? "None" : terms.joined(separator: labelSeparator))
            }.joined(separator: "\n")
        }
        return spans.map(\.term).joined(separator: labelSeparator)
    }

    /// The example as a record with the task's label order (what evaluation shows).
    public func record(_ index: Int) -> InstructionRecord {
        let ex = examples[index]
        let cands = candidates(for: ex)
        return InstructionRecord(
            id: "\(name)#\(index)", taskDescription: definition, prompt: instruction, input: ex.sentences,
            candidateLabels: cands.isEmpty ? nil : cands, output: answer(for: ex), template: .ecomgpt,
            labelSeparator: labelSeparator,
            provenance: Provenance(dataset: dataset, task: name, taskType: taskType, language: language))
    }

    /// All examples as records.
    public func records() -> [InstructionRecord] { examples.indices.map(record) }

    /// Every task folder under an EcomGPT data directory (`<Dataset>/tasks/<task>/meta-info.json`), sorted by name.
    public static func taskFolders(in root: URL) throws -> [URL] {
        let fm = FileManager.default
        guard let datasets = try? fm.contentsOfDirectory(atPath: root.path) else {
            throw InstructError("\(root.path): cannot list the EcomGPT data directory")
        }
        var found: [URL] = []
        for d in datasets.sorted() {
            let tasks = root.appendingPathComponent(d).appendingPathComponent("tasks")
            for t in (try? fm.contentsOfDirectory(atPath: tasks.path)) ?? [] {
                let dir = tasks.appendingPathComponent(t)
                if fm.fileExists(atPath: dir.appendingPathComponent("meta-info.json").path) { found.append(dir) }
            }
        }
        return found.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }
}
