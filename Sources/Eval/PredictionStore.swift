// DIR/predictions.jsonl: one JSON object per evaluated example, appended as examples finish, so that an interrupted
// evaluation resumes where it stopped. A torn last line (a crash mid-write) is dropped on reopening.
import Foundation

/// One evaluated example as predictions.jsonl stores it.
public struct EvalPrediction: Codable, Sendable, Equatable {
    public var task: String
    public var id: String
    /// The rendered prompt (before truncation; `truncatedTokens` says how much of its start the model did not see).
    public var prompt: String
    /// The extracted answer.
    public var prediction: String
    public var reference: String
    public var suite: EvalSuite
    public var taskType: String
    /// The input text (for NER scoring).
    public var text: String
    public var labelSeparator: String
    /// The decoded completion before answer extraction.
    public var completion: String
    public var promptTokens: Int
    public var truncatedTokens: Int
    public var generatedTokens: Int

    enum CodingKeys: String, CodingKey {
        case task, id, prompt, prediction, reference, suite, text, completion
        case taskType = "task_type", labelSeparator = "label_sep", promptTokens = "prompt_tokens"
        case truncatedTokens = "truncated_tokens", generatedTokens = "generated_tokens"
    }

    public var key: String { task + "\u{1F}" + id }
}

/// The predictions file of an evaluation directory.
public final class PredictionStore: @unchecked Sendable {
    public static let fileName = "predictions.jsonl"
    public let url: URL
    /// The predictions read when opened plus those appended since, in file order.
    public private(set) var predictions: [EvalPrediction] = []
    /// Whether opening dropped a torn or unreadable last line.
    public private(set) var droppedTornLine = false
    private var keys = Set<String>()
    private let lock = NSLock()
    private let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// Opens (or creates) `dir/predictions.jsonl`. Complete lines are read; a last line that is not a whole JSON object
    /// (no final newline or not decodable) is dropped and the file rewritten without it. A bad line elsewhere is an
    /// error naming the file and line.
    public init(directory: URL) throws {
        url = directory.appendingPathComponent(Self.fileName)
        let fm = FileManager.default
        guard fm.fileExists(atPath: url.path) else {
            guard fm.createFile(atPath: url.path, contents: nil) else { throw EvalError("\(url.path): cannot create") }
            return
        }
        let data = try Data(contentsOf: url)
        let parsed = try Self.parse(data, url: url, badLineAdvice: "; remove the line or rerun with --restart")
        predictions = parsed.predictions
        keys = Set(parsed.predictions.map(\.key))
        droppedTornLine = parsed.torn
        if droppedTornLine { try data.prefix(parsed.validBytes).write(to: url, options: .atomic) }
    }

    /// Reads `dir/predictions.jsonl` without changing it (for comparisons): the complete lines' predictions in file
    /// order (a repeated example keeps its first line) and whether a torn last line was skipped. A missing file or a
    /// bad line other than the last is an error naming the file (and line).
    public static func read(directory: URL) throws -> (predictions: [EvalPrediction], skippedTornLine: Bool) {
        let url = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw EvalError("\(url.path): not found (is \(directory.path) an ecom-eval output directory?)")
        }
        let parsed = try parse(try Data(contentsOf: url), url: url, badLineAdvice: "")
        return (parsed.predictions, parsed.torn)
    }

    /// The predictions of a predictions.jsonl's bytes in file order (a repeated example keeps its first line), whether
    /// a torn last line (an interrupted write) was skipped, and the length of the complete lines before it. A bad line
    /// other than the last is an error naming the file and line, followed by `badLineAdvice`.
    static func parse(_ data: Data, url: URL, badLineAdvice: String) throws -> (predictions: [EvalPrediction], torn: Bool, validBytes: Int) {
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let complete = data.last == UInt8(ascii: "\n")
        if complete || data.isEmpty { lines.removeLast() }  // the empty piece after the final newline
        let decoder = JSONDecoder()
        var out: [EvalPrediction] = [], seen = Set<String>(), torn = false, validBytes = 0
        for (i, line) in lines.enumerated() {
            let isLast = i == lines.count - 1
            guard let p = try? decoder.decode(EvalPrediction.self, from: Data(line)), !(isLast && !complete) else {
                if isLast { torn = true; break }
                throw EvalError("\(url.path):\(i + 1): not a prediction object\(badLineAdvice)")
            }
            if seen.insert(p.key).inserted { out.append(p) }
            validBytes += line.count + 1
        }
        return (out, torn, validBytes)
    }

    /// Whether the example has a stored prediction.
    public func contains(_ key: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return keys.contains(key)
    }

    /// Appends predictions with one write of whole lines (so a crash leaves at most one torn last line).
    public func append(_ batch: [EvalPrediction]) throws {
        guard !batch.isEmpty else { return }
        var data = Data()
        for p in batch {
            data.append(try encoder.encode(p))
            data.append(UInt8(ascii: "\n"))
        }
        lock.lock(); defer { lock.unlock() }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: data)
        try handle.synchronize()
        for p in batch where keys.insert(p.key).inserted { predictions.append(p) }
    }

    /// Removes every stored prediction (a restart).
    public func clear() throws {
        lock.lock(); defer { lock.unlock() }
        try Data().write(to: url, options: .atomic)
        predictions = []
        keys = []
    }
}
