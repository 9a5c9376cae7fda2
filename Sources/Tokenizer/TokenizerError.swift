// Errors raised while loading, training or running the tokenizer; each names the file, field or line at fault.
import Foundation

/// An error from `EcomTokenizer`. The description names the field (a JSON path such as
/// `pre_tokenizer.pretokenizers[0].behavior`) or the line that caused it.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// The file could not be read.
    case unreadable(path: String, reason: String)
    /// The document is not JSON or a field has the wrong shape.
    case malformed(field: String, reason: String)
    /// A `type` (or option) the library does not implement.
    case unsupported(field: String, value: String)
    /// A bad input line of a JSON Lines stream (1-based line number).
    case badLine(source: String, line: Int, reason: String)
    /// Invalid arguments to the trainer.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read \(path): \(reason)"
        case let .malformed(field, reason): return "malformed tokenizer.json at \(field): \(reason)"
        case let .unsupported(field, value): return "unsupported \(field): \(value)"
        case let .badLine(source, line, reason): return "\(source):\(line): \(reason)"
        case let .invalidArgument(message): return message
        }
    }
}
