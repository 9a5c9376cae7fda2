// `ecom-data passages`: unlabelled passages for `ecom-distill` (the embedded raw sample's texts, UniversalNER passages).
import ArgumentParser
import EcomInstruct
import Foundation

struct Passages: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write unlabelled passages (JSON Lines of {\"language\", \"source\", \"text\"}) for ecom-distill.",
        discussion: """
            With no source, the embedded raw sample's passages (product title and description, reviews, QA contexts). \
            --uniner adds every passage of the UniversalNER files in DIR, without labels (these are evaluation sets: \
            distilling from them puts test inputs into training). Duplicate texts are written once. Prints the counts.
            """)

    @Flag(name: .customLong("raw-sample"), help: "The embedded raw sample's passages (the default when no source is given).") var rawSample = false
    @Option(help: ArgumentHelp("UniversalNER directory of conversation JSON files.", valueName: "dir")) var uniner: String?
    @Option(help: ArgumentHelp("Output file, written atomically.", valueName: "file")) var out: String

    func run() throws {
        try reportingErrors {
            var lines: [PassageLine] = []
            var counts: [String: Int] = [:]
            if rawSample || uniner == nil {
                let raw = try PassageCorpus.rawSample()
                counts["raw_sample"] = raw.count
                lines += raw
            }
            if let u = uniner {
                let p = try PassageCorpus.universalNER(URL(fileURLWithPath: u))
                counts["universal_ner"] = p.count
                lines += p
            }
            let unique = PassageCorpus.unique(lines)
            try writeAtomically(PassageCorpus.jsonLines(unique), to: URL(fileURLWithPath: out))
            counts["written"] = unique.count
            counts["duplicates"] = lines.count - unique.count
            progress("passages: \(unique.count) written to \(out)")
            try printJSON(counts)
        }
    }
}
