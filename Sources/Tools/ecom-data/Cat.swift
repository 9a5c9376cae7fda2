// `ecom-data cat`: records of a shard directory as JSON Lines on stdout.
import ArgumentParser
import EcomInstruct
import Foundation

struct Cat: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print records as JSON Lines.")

    @Argument(help: "A directory written by `ecom-data build`.") var dir: String
    @Option(help: "Only this split (train, validation, test).") var split: String?
    @Option(help: "At most this many records.") var limit: Int?
    @Flag(help: "Print each record rendered with its template as {\"text\": prompt + response} (a corpus for `ecom-tokenizer train`).")
    var text = false

    func run() throws {
        try reportingErrors {
            if let s = split, Split(rawValue: s) == nil { throw InstructError("unknown split '\(s)' (train, validation, test)") }
            let records = try DatasetBuilder.records(in: URL(fileURLWithPath: dir), split: split, limit: limit)
            if text {
                var out = Data()
                for r in records {
                    out += try JSONSerialization.data(withJSONObject: ["text": r.rendered().text], options: [.withoutEscapingSlashes])
                    out.append(0x0A)
                }
                FileHandle.standardOutput.write(out)
            } else {
                FileHandle.standardOutput.write(RecordCodec.encodeLines(records))
            }
        }
    }
}
