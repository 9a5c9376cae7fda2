// Input and output of the command-line tools: JSON Lines read from a file or standard input, results written to a
// file (atomically) or standard output. Shared by the tools; not a product of the package.
import ArgumentParser
import Foundation

/// Reads the whole input: the file at `path`, or standard input when `path` is nil. Returns the bytes and the name
/// to cite in error messages (the path, or `<stdin>`).
public func readToolInput(_ path: String?) throws -> (data: Data, source: String) {
    guard let path else { return (FileHandle.standardInput.readDataToEndOfFile(), "<stdin>") }
    do { return (try Data(contentsOf: URL(fileURLWithPath: path)), path) } catch {
        throw ValidationError("cannot read \(path): \(error.localizedDescription)")
    }
}

/// Writes `data` to the file at `path` atomically (temporary file, then rename), or to standard output when nil.
public func writeToolOutput(_ data: Data, to path: String?) throws {
    guard let path else { FileHandle.standardOutput.write(data); return }
    do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
        throw ValidationError("cannot write \(path): \(error.localizedDescription)")
    }
}

/// `--input` and `--output` options for tools that turn JSON Lines into JSON Lines.
public struct StreamOptions: ParsableArguments {
    @Option(help: "JSON Lines input file (default: standard input).") public var input: String?
    @Option(help: "Output file, written atomically (default: standard output).") public var output: String?

    public init() {}

    /// The input's bytes and its name for error messages.
    public func read() throws -> (Data, String) { try readToolInput(input) }

    /// Writes the output.
    public func write(_ data: Data) throws { try writeToolOutput(data, to: output) }
}
