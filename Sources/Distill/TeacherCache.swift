// The teacher's answers, appended one JSON line at a time to OUT/teacher-cache.jsonl as they arrive, so that an
// interrupted run (a dead endpoint, ^C) resumes without asking again. Keyed by a hash of what determines an answer:
// the chunk, the prompt, the endpoint and model, and the sampling settings (Docs/FORMATS.md).
import EcomInstruct
import Foundation

/// The settings sent with every request that change the answer.
public struct TeacherSampling: Sendable, Equatable, Codable {
    public var maxTokens: Int
    public var temperature: Double
    public var topP: Double?
    public var seed: Int?

    public init(maxTokens: Int = 512, temperature: Double = 0, topP: Double? = nil, seed: Int? = nil) {
        self.maxTokens = maxTokens; self.temperature = temperature; self.topP = topP; self.seed = seed
    }

    enum CodingKeys: String, CodingKey { case maxTokens = "max_tokens", temperature, topP = "top_p", seed }
}

/// One cached answer (a line of teacher-cache.jsonl).
public struct CachedAnswer: Codable, Sendable, Equatable {
    /// ``TeacherCache/key(chunk:teacher:model:sampling:)``.
    public var key: String
    /// The teacher's message content, as received.
    public var answer: String
    public var finishReason: String?
    public var promptTokens: Int?
    public var completionTokens: Int?
    /// The model the endpoint says answered.
    public var model: String?

    public init(key: String, answer: String, finishReason: String? = nil, promptTokens: Int? = nil, completionTokens: Int? = nil,
                model: String? = nil) {
        self.key = key; self.answer = answer; self.finishReason = finishReason; self.promptTokens = promptTokens
        self.completionTokens = completionTokens; self.model = model
    }

    enum CodingKeys: String, CodingKey {
        case key, answer, model
        case finishReason = "finish_reason", promptTokens = "prompt_tokens", completionTokens = "completion_tokens"
    }
}

/// The answers so far, and the file they are appended to.
public actor TeacherCache {
    public static let fileName = "teacher-cache.jsonl"

    public nonisolated let url: URL
    /// Answers by key (a later line with the same key wins).
    public private(set) var answers: [String: CachedAnswer] = [:]
    /// Notes for the log (a torn last line that was dropped).
    public nonisolated let notes: [String]
    private var handle: FileHandle?

    /// Opens (or creates) the cache file. A last line cut off by an interrupted write is dropped from the file with a
    /// note; any other line that is not an answer is an error naming `FILE:LINE`.
    public init(url: URL) throws {
        self.url = url
        let fm = FileManager.default
        try? fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var notes: [String] = []
        var loaded: [String: CachedAnswer] = [:]
        if fm.fileExists(atPath: url.path) {
            let data: Data
            do { data = try Data(contentsOf: url) } catch {
                throw DistillError("\(url.path): cannot read the teacher cache (\(error.localizedDescription))")
            }
            // Whole lines end in a newline; what follows the last one was being written when the run stopped.
            let whole = data.lastIndex(of: 0x0A).map { data.index(after: $0) } ?? data.startIndex
            let decoder = JSONDecoder()
            try forEachLine(data[data.startIndex..<whole]) { line, number in
                do {
                    let a = try decoder.decode(CachedAnswer.self, from: line)
                    loaded[a.key] = a
                } catch {
                    throw DistillError("\(url.path):\(number): not a teacher-cache entry (\(error)); delete the line (or the file, to ask again)")
                }
            }
            if whole < data.endIndex {
                let tail = data[whole...]
                if let a = try? decoder.decode(CachedAnswer.self, from: Data(tail)) {
                    loaded[a.key] = a  // a whole entry without its newline: kept, the newline added below
                    try Self.appendBytes(Data([0x0A]), to: url)
                } else {
                    notes.append("\(url.path): the last line (\(tail.count) bytes) was cut off by an interrupted write; ignored")
                    guard truncate(url.path, off_t(whole - data.startIndex)) == 0 else {
                        throw DistillError("\(url.path): cannot drop the cut-off last line (\(String(cString: strerror(errno))))")
                    }
                }
            }
        } else {
            guard fm.createFile(atPath: url.path, contents: nil) else {
                throw DistillError("\(url.path): cannot create the teacher cache")
            }
        }
        answers = loaded
        self.notes = notes
    }

    /// The cached answer of a key.
    public func answer(_ key: String) -> CachedAnswer? { answers[key] }

    /// Appends one answer as one line (one write call, so a crash leaves at most a torn last line).
    public func append(_ a: CachedAnswer) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = try enc.encode(a)
        line.append(0x0A)
        if handle == nil {
            guard let h = FileHandle(forWritingAtPath: url.path) else {
                throw DistillError("\(url.path): cannot open the teacher cache for appending")
            }
            handle = h
        }
        do {
            try handle!.seekToEnd()
            try handle!.write(contentsOf: line)
        } catch {
            throw DistillError("\(url.path): cannot append an answer (\(error.localizedDescription))")
        }
        answers[a.key] = a
    }

    /// Closes the file.
    public func close() {
        try? handle?.close()
        handle = nil
    }

    private static func appendBytes(_ d: Data, to url: URL) throws {
        guard let h = FileHandle(forWritingAtPath: url.path) else { throw DistillError("\(url.path): cannot open for appending") }
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: d)
    }

    /// The key of an answer: XXH64 (16 hex digits) of the prompt's version and hash, the endpoint (without a trailing
    /// slash), the model, the sampling settings and the chunk, joined with NUL bytes.
    public static func key(chunk: String, teacher: URL, model: String, sampling: TeacherSampling) -> String {
        var endpoint = teacher.absoluteString
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        let parts = [
            "ecom-distill-cache-v1", DistillPrompt.version, DistillPrompt.hash, endpoint, model,
            "max_tokens=\(sampling.maxTokens)", "temperature=\(sampling.temperature)",
            "top_p=\(sampling.topP.map { "\($0)" } ?? "-")", "seed=\(sampling.seed.map { "\($0)" } ?? "-")", chunk,
        ]
        return XXH64.hex(XXH64.hash(Array(parts.joined(separator: "\u{0}").utf8)))
    }
}
