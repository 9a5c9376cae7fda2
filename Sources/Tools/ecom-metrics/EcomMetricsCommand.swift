// ecom-metrics: the papers' scores over JSON Lines (Rouge-L, EcomGPT's set F1 and entity F1, UniversalNER).
import ArgumentParser
import EcomMetrics
import EcomToolSupport
import Foundation

/// Input and output files shared by the subcommands.
struct IOOptions: ParsableArguments {
    @Option(help: "JSON Lines input file (default: standard input).") var input: String?
    @Option(help: "Output file for the JSON result (default: standard output).") var output: String?

    func read() throws -> (text: String, source: String) {
        let (data, source) = try readToolInput(input)
        return (String(decoding: data, as: UTF8.self), source)
    }

    func write(_ json: String) throws { try writeToolOutput(Data((json + "\n").utf8), to: output) }

    /// Runs a request, turning input errors into a message and exit code 1.
    func run(_ body: (String, String) throws -> String) throws {
        let (text, source) = try read()
        do { try write(try body(text, source)) } catch let e as MetricsInputError {
            FileHandle.standardError.write(Data("ecom-metrics: \(e)\n".utf8))
            throw ExitCode(1)
        }
    }
}

@main
struct EcomMetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecom-metrics",
        abstract: "Scores predictions as EcomGPT and UniversalNER do (JSON Lines in, one JSON object out).",
        subcommands: [RougeLCommand.self, SetF1Command.self, EntityF1Command.self, UniNERCommand.self])
}

extension RougeFlavor: ExpressibleByArgument {}
extension EmptyHypothesisPolicy: ExpressibleByArgument {}

struct RougeLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rouge-l",
        abstract: "Rouge-L of lines {\"prediction\": str, \"reference\": str}: {\"f\",\"p\",\"r\",\"per_example\"}.")
    @Option(help: "rouge (the `rouge` package, EcomGPT's), rouge-score (Google rougeL), rouge-lsum (Google rougeLsum), cjk (ours).")
    var flavor: RougeFlavor = .rouge
    @Option(help: "For --flavor rouge: raise (refuse, as the package does) or substitute (score \"error\", as EcomGPT).")
    var emptyHypothesis: EmptyHypothesisPolicy = .raise
    @OptionGroup var io: IOOptions
    func run() throws {
        try io.run { try MetricsRequest.rougeL($0, source: $1, flavor: flavor, emptyHypothesis: emptyHypothesis) }
    }
}

struct SetF1Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-f1",
        abstract: "EcomGPT's SetScore of lines {\"prediction\": [str], \"reference\": [str]}.")
    @OptionGroup var io: IOOptions
    func run() throws { try io.run { try MetricsRequest.setF1($0, source: $1) } }
}

struct EntityF1Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "entity-f1",
        abstract: "EcomGPT's NER entity F1 (character BIO labels + seqeval) of lines {\"text\", \"prediction\": {type: [span]}, \"reference\": {type: [span]}}.")
    @OptionGroup var io: IOOptions
    func run() throws { try io.run { try MetricsRequest.entityF1($0, source: $1) } }
}

struct UniNERCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uniner",
        abstract: "UniversalNER's evaluator over lines {\"prediction\": str, \"reference\": str} (raw answers).")
    @OptionGroup var io: IOOptions
    func run() throws { try io.run { try MetricsRequest.uniner($0, source: $1) } }
}
