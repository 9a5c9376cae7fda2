// ecom-eval compare: a base and a tuned evaluation of the same examples side by side, with paired bootstrap intervals.
import ArgumentParser
import EcomEval
import EcomModel
import Foundation

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two evaluations of the same examples (a base and a tuned model): scores, differences, paired intervals.",
        discussion: """
        Reads BASE/predictions.jsonl and TUNED/predictions.jsonl (and their summary.json for the settings), compares the \
        examples both hold (matched by task and id), prints the table and writes the page (--out) and the JSON (--json).
        """)
    @Option(help: ArgumentHelp("The base model's evaluation directory (ecom-eval --out).", valueName: "dir")) var base: String
    @Option(help: ArgumentHelp("The tuned model's evaluation directory.", valueName: "dir")) var tuned: String
    @Option(help: ArgumentHelp("The comparison page (XHTML).", valueName: "file.html")) var out: String
    @Option(help: ArgumentHelp("The comparison as JSON (default: --out with .json for .html).", valueName: "file")) var json: String?
    @Option(help: "Seed of the bootstrap's resampled example indices.") var seed: UInt64 = 0
    @Option(help: "Bootstrap resamples.") var resamples = 1000
    @Option(help: "Examples shown per task on the page (the first by id).") var examples = 3
    @Option(help: "The page's title.") var title = "Ecom evaluation: base vs tuned"
    @Option(parsing: .upToNextOption, help: "Lines shown under the title (what was tuned, how).") var notes: [String] = []

    func run() throws {
        guard resamples >= 1 else { throw ValidationError("--resamples must be at least 1") }
        guard examples >= 0 else { throw ValidationError("--examples must not be negative") }
        let settings = BootstrapSettings(resamples: resamples, seed: seed)
        let c = try Comparisons.compare(baseDirectory: URL(fileURLWithPath: base), tunedDirectory: URL(fileURLWithPath: tuned),
                                        settings: settings, examples: examples)
        for w in c.warnings { FileHandle.standardError.write(Data("compare: warning: \(w)\n".utf8)) }
        let outURL = URL(fileURLWithPath: out)
        let jsonURL = URL(fileURLWithPath: json ?? (outURL.pathExtension.lowercased() == "html"
            ? outURL.deletingPathExtension().appendingPathExtension("json").path : out + ".json"))
        guard jsonURL.standardizedFileURL != outURL.standardizedFileURL else { throw ValidationError("--json must differ from --out") }
        for dir in [outURL, jsonURL].map({ $0.deletingLastPathComponent() }) {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
        try AtomicFile.write(Data(ComparisonReport.html(c, title: title, notes: notes).utf8), to: outURL)
        try AtomicFile.write(c.encoded(), to: jsonURL)
        print(Comparisons.table(c), terminator: "")
        FileHandle.standardError.write(Data("compare: \(c.matched) examples; page \(outURL.path), JSON \(jsonURL.path)\n".utf8))
    }
}
