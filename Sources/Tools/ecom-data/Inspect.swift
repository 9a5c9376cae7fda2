// `ecom-data inspect`: counts per source, task, task type, atomic kind, language and split; shards and bytes.
import ArgumentParser
import EcomInstruct
import Foundation

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Summarise a shard directory as JSON.")

    @Argument(help: "A directory written by `ecom-data build` or `ecom-data pack`.") var dir: String
    @Flag(help: "Also check every shard's size, checksum and record count against the manifest.") var verify = false

    func run() throws {
        try reportingErrors {
            let url = URL(fileURLWithPath: dir)
            if verify { try ShardManifest.read(from: url).verify(in: url) }
            try printJSON(try DatasetBuilder.inspect(url))
        }
    }
}
