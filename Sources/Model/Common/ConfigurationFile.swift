// Reading a model directory's config.json: which architecture it declares (`model_type`, `architectures`) and
// decoding it with errors that name the file and the key.
import Foundation

/// A config.json that cannot be used; names the file.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var file: String
    public var message: String
    public var description: String { "\(file): \(message)" }
    public init(file: String, message: String) { self.file = file; self.message = message }
}

/// config.json reading shared by the architectures.
public enum ConfigurationFile {
    /// Decodes `directory/config.json` as `type`; errors name the file and the key.
    public static func decode<T: Decodable>(_ type: T.Type, directory: URL) throws -> T {
        let url = directory.appendingPathComponent("config.json")
        let data = try read(url)
        do { return try JSONDecoder().decode(T.self, from: data) } catch let e as DecodingError {
            throw ConfigurationError(file: url.path, message: describe(e))
        }
    }

    /// A configuration as config.json holds it (keys sorted).
    public static func encoded(_ configuration: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(configuration)
    }

    /// The architecture `directory/config.json` declares: its `model_type`, else derived from `architectures`
    /// ("LlamaForCausalLM" -> "llama"); nil when it declares neither.
    public static func modelType(directory: URL) throws -> String? {
        let url = directory.appendingPathComponent("config.json")
        guard let object = try? JSONSerialization.jsonObject(with: read(url)) as? [String: Any] else {
            throw ConfigurationError(file: url.path, message: "not a JSON object")
        }
        if let type = object["model_type"] as? String { return type }
        if let first = (object["architectures"] as? [String])?.first {
            for suffix in ["ForCausalLM", "Model"] where first.hasSuffix(suffix) { return String(first.dropLast(suffix.count)).lowercased() }
        }
        return nil
    }

    private static func read(_ url: URL) throws -> Data {
        do { return try Data(contentsOf: url) } catch { throw ConfigurationError(file: url.path, message: "cannot read: \(error.localizedDescription)") }
    }

    static func describe(_ e: DecodingError) -> String {
        switch e {
        case .dataCorrupted(let c): return (c.codingPath.map(\.stringValue).joined(separator: ".") + " " + c.debugDescription).trimmingCharacters(in: .whitespaces)
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c):
            return "\(c.codingPath.map(\.stringValue).joined(separator: ".")): \(c.debugDescription)"
        @unknown default: return "\(e)"
        }
    }
}
