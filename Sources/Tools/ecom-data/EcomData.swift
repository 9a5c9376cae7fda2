// ecom-data: builds, inspects, prints and packs instruction data (EcomInstruct); progress on stderr, JSON on stdout.
import ArgumentParser
import EcomInstruct
import Foundation

@main
struct EcomData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecom-data",
        abstract: "Build, inspect, print and pack EcomGPT-style instruction data stored as zstd shards.",
        subcommands: [Build.self, Inspect.self, Cat.self, Pack.self, Passages.self])
}

/// Progress lines on standard error.
func progress(_ line: String) {
    FileHandle.standardError.write(Data("ecom-data: \(line)\n".utf8))
}

/// One JSON object on standard output.
func printJSON(_ object: Any) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    FileHandle.standardOutput.write(data + Data("\n".utf8))
}

/// Runs `body`, turning library errors into a message and a non-zero exit.
func reportingErrors(_ body: () throws -> Void) throws {
    do { try body() } catch let e as InstructError {
        FileHandle.standardError.write(Data("ecom-data: error: \(e.message)\n".utf8))
        throw ExitCode(1)
    }
}
