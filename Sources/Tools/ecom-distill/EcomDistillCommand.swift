// ecom-distill: UniversalNER-style targeted distillation (EcomDistill): a teacher behind an OpenAI-compatible endpoint
// labels passages; the answers become `.uniner` instruction records in record shards. Argument parsing and output only.
import ArgumentParser
import EcomDistill
import EcomLoader
import EcomModel
import EcomOpenAI
import EcomTokenizer
import Foundation

@main
struct EcomDistillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecom-distill",
        abstract: "Distil a teacher model's entity labels into UniversalNER instruction records (record shards).",
        discussion: """
            Each passage (JSON Lines with a "text" field, e.g. from `ecom-data passages`) is cut into chunks of at most \
            --max-chunk-tokens tokens; the teacher answers UniversalNER's data-construction prompt for each chunk; the \
            (entity, type) pairs found in the chunk become one question per type plus --negatives sampled negative types. \
            OUT gets record shards and manifest.json (for `ecom-data pack` and `ecom-train`), summary.json, and \
            teacher-cache.jsonl: answers are appended as they arrive, so a rerun of the same command after a failure asks \
            only for the rest. Progress on standard error; the summary as JSON on standard output.

            Example: `ecom-data passages --out passages.jsonl`, then `ecom-distill --teacher http://127.0.0.1:8080/v1 \
            --teacher-model NAME --input passages.jsonl --out runs/distilled`.
            """)

    @Option(help: ArgumentHelp("The teacher's OpenAI-compatible API root.", valueName: "url")) var teacher: String
    @Option(name: .customLong("teacher-model"), help: "The model name sent in requests.") var teacherModel: String
    @Option(name: .customLong("api-key-env"), help: ArgumentHelp("Environment variable holding the API key (sent as a bearer token).",
                                                                  valueName: "var")) var apiKeyEnv: String?
    @Option(help: ArgumentHelp("Passages: JSON Lines with a \"text\" field.", valueName: "file")) var input: String
    @Option(help: ArgumentHelp("Output directory (shards, manifest.json, summary.json, teacher-cache.jsonl).", valueName: "dir")) var out: String
    @Option(name: .customLong("max-passages"), help: "Use only the first N passages.") var maxPassages: Int?
    @Option(help: "Requests in flight.") var concurrency = 4
    @Option(help: "Seed of negative-type sampling and of the validation split.") var seed: UInt64 = 0
    @Option(help: "Negative entity types per record (answered []).") var negatives = 2
    @Option(name: .customLong("max-chunk-tokens"), help: "Largest chunk, in tokens of --tokenizer.") var maxChunkTokens = 256
    @Option(help: ArgumentHelp(
        "tokenizer.json, an HF model directory or a .gguf file (default: the backbone scripts/fetch-model.sh caches).",
        valueName: "path")) var tokenizer: String?
    @Option(name: .customLong("max-tokens"), help: "The teacher's answer budget (max_tokens).") var maxTokens = 512
    @Option(help: "The teacher's sampling temperature.") var temperature = 0.0
    @Option(name: .customLong("top-p"), help: "The teacher's top_p (not sent when absent).") var topP: Double?
    @Option(name: .customLong("validation-fraction"), help: "Fraction of the records for validation.") var validationFraction = 0.05
    @Option(help: "Seconds per request attempt.") var timeout = 600.0
    @Option(help: "Attempts per request (retries on 429, 5xx, timeouts, connection errors, invalid bodies).") var attempts = 6
    @Flag(help: "No progress bar.") var quiet = false

    func validate() throws {
        guard let u = URL(string: teacher), let scheme = u.scheme, scheme == "http" || scheme == "https", u.host != nil else {
            throw ValidationError("--teacher must be an http(s) URL such as http://127.0.0.1:8080/v1, not '\(teacher)'")
        }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard negatives >= 0 else { throw ValidationError("--negatives must not be negative") }
        guard maxChunkTokens >= 8 else { throw ValidationError("--max-chunk-tokens must be at least 8") }
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
        guard (0...2).contains(temperature) else { throw ValidationError("--temperature must be in [0, 2]") }
        if let p = topP, !(p > 0 && p <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
        if let m = maxPassages, m < 1 { throw ValidationError("--max-passages must be at least 1") }
        guard (0..<1).contains(validationFraction) else { throw ValidationError("--validation-fraction must be in [0, 1)") }
        guard attempts >= 1 else { throw ValidationError("--attempts must be at least 1") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        do {
            var apiKey: String?
            if let v = apiKeyEnv {
                guard let k = ProcessInfo.processInfo.environment[v], !k.isEmpty else {
                    throw DistillError("--api-key-env \(v): the environment variable is not set")
                }
                apiKey = k
            }
            let (tok, source) = try loadTokenizer()
            var o = DistillOptions(teacher: URL(string: teacher)!, model: teacherModel)
            o.apiKey = apiKey
            o.sampling = TeacherSampling(maxTokens: maxTokens, temperature: temperature, topP: topP)
            o.negatives = negatives
            o.seed = seed
            o.maxChunkTokens = maxChunkTokens
            o.concurrency = concurrency
            o.maxPassages = maxPassages
            o.validationFraction = validationFraction
            o.timeout = timeout
            o.retry = RetryPolicy(maxAttempts: attempts)
            o.tokenizerSource = source
            let distiller = Distiller(options: o, tokenizer: tok, showProgress: !quiet) { line in
                FileHandle.standardError.write(Data("ecom-distill: \(line)\n".utf8))
            }
            let summary = try await distiller.run(input: URL(fileURLWithPath: input), out: URL(fileURLWithPath: out))
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try enc.encode(summary) + Data("\n".utf8))
        } catch let e as DistillError {
            FileHandle.standardError.write(Data("ecom-distill: error: \(e.message)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// The chunking tokenizer and what it was: --tokenizer, or the cached backbone GGUF.
    func loadTokenizer() throws -> (Tokenizer, String) {
        let path: String
        if let t = tokenizer {
            path = t
        } else {
            let env = ProcessInfo.processInfo.environment
            let models = env["ECOM_MODELS"].flatMap { $0.isEmpty ? nil : $0 }
                ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/ecom/models").path
            let gguf = URL(fileURLWithPath: models).appendingPathComponent("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf").path
            guard FileManager.default.fileExists(atPath: gguf) else {
                throw DistillError("no tokenizer: pass --tokenizer (tokenizer.json, model directory or .gguf), or run "
                                   + "scripts/fetch-model.sh to cache the backbone at \(gguf)")
            }
            path = gguf
        }
        let url = URL(fileURLWithPath: path)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw DistillError("--tokenizer \(path): no such file or directory")
        }
        do {
            if isDir.boolValue {
                let file = url.appendingPathComponent("tokenizer.json")
                guard FileManager.default.fileExists(atPath: file.path) else {
                    throw DistillError("--tokenizer \(path): the directory has no tokenizer.json")
                }
                return (try Tokenizer(contentsOf: file), file.path)
            }
            if path.hasSuffix(".gguf") {
                let file = try GGUFFile(url: url)
                let tok = try GGUFImport.tokenizerMetadata(file).makeTokenizer(preTokenizer: GGUFImport.preTokenizer)
                return (tok, path)
            }
            return (try Tokenizer(contentsOf: url), path)
        } catch let e as DistillError {
            throw e
        } catch {
            throw DistillError("--tokenizer \(path): \(error)")
        }
    }
}
