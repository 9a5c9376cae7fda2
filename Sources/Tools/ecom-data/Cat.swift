// `ecom-data cat`: records of a shard directory as JSON Lines on stdout.
import ArgumentParser
import EcomInstruct
import Foundation

struct Cat: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print records as JSON Lines.")

    @Argument(help: "A directory written by `ecom-data build`.") var dir: String
    @Option(help: "Only this split (train, validation, test).") var split: String?
    @Option(help: "At most this many records.") var limit: Int?

    func run() throws {
        try reportingErrors {
            if let s = split, Split(rawValue: s) == nil { throw InstructError("unknown split '\(s)' (train, validation, test)") }
            let records = try DatasetBuilder.records(in: URL(fileURLWithPath: dir), split: split, limit: limit)
            FileHandle.standardOutput.write(RecordCodec.encodeLines(records))
        }
    }
}
