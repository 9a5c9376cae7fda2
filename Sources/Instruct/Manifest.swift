// The shard manifest (manifest.json): format version, kind, shards with record counts, sizes and checksums, and the
// tokenizer's hash for packed shards. Removed before new shards are written and written atomically, last, so that a
// manifest always describes finished shards, those of one run.
import Foundation

public struct ShardManifest: Codable, Sendable, Equatable {
    public static let fileName = "manifest.json"
    public static let currentVersion = 1

    public var format = "ecom-shards"
    public var version = ShardManifest.currentVersion
    public var kind: String
    public var compressionLevel: Int
    /// XXH64 of the tokenizer file used for packing (packed shards only).
    public var tokenizerHash: String?
    /// Sequence length of packed shards.
    public var sequenceLength: Int?
    public var shards: [ShardInfo]
    /// Free-form counts (records per split, filter report totals, packing statistics).
    public var notes: [String: Int]?

    public init(kind: ShardKind, compressionLevel: Int, shards: [ShardInfo], tokenizerHash: String? = nil,
                sequenceLength: Int? = nil, notes: [String: Int]? = nil) {
        self.kind = kind.name; self.compressionLevel = compressionLevel; self.shards = shards
        self.tokenizerHash = tokenizerHash; self.sequenceLength = sequenceLength; self.notes = notes
    }

    enum CodingKeys: String, CodingKey {
        case format, version, kind, shards, notes
        case compressionLevel = "compression_level", tokenizerHash = "tokenizer_hash", sequenceLength = "sequence_length"
    }

    public var recordCount: Int { shards.reduce(0) { $0 + $1.records } }

    /// Shards of one split (all when nil).
    public func shards(split: String?) -> [ShardInfo] { split.map { s in shards.filter { $0.split == s } } ?? shards }

    public func write(to dir: URL) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try writeAtomically(try enc.encode(self), to: dir.appendingPathComponent(Self.fileName))
    }

    /// Prepares `dir` for new shards: removes an earlier manifest and the temporary files (`.NAME.tmp`) of shard writes
    /// that a stopped process left. A directory is finished once its manifest is written, last; without this, a run
    /// stopped part way over an earlier output would leave the earlier manifest describing shards it had replaced.
    public static func beginWriting(in dir: URL) throws {
        let fm = FileManager.default
        let url = dir.appendingPathComponent(fileName)
        if fm.fileExists(atPath: url.path) {
            do { try fm.removeItem(at: url) } catch {
                throw InstructError("\(url.path): cannot remove the earlier manifest before writing new shards (\(error.localizedDescription))")
            }
        }
        for n in (try? fm.contentsOfDirectory(atPath: dir.path)) ?? [] where n.hasPrefix(".") && n.hasSuffix(".ecs.tmp") {
            try? fm.removeItem(at: dir.appendingPathComponent(n))
        }
    }

    public static func read(from dir: URL) throws -> ShardManifest {
        let url = dir.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw InstructError("\(url.path): no manifest; is \(dir.path) a directory written by ecom-data build or pack?")
        }
        let m: ShardManifest
        do { m = try JSONDecoder().decode(ShardManifest.self, from: readFile(url)) } catch let e as InstructError { throw e } catch {
            throw InstructError("\(url.path): not a valid manifest (\(error))")
        }
        guard m.format == "ecom-shards" else { throw InstructError("\(url.path): format '\(m.format)', expected 'ecom-shards'") }
        guard m.version == currentVersion else {
            throw InstructError("\(url.path): manifest version \(m.version); this build reads version \(currentVersion)")
        }
        return m
    }

    /// Checks every shard's size, checksum and record count against the manifest; the error names the shard.
    public func verify(in dir: URL) throws {
        for s in shards {
            let url = dir.appendingPathComponent(s.file)
            let r = try ShardReader(url: url)
            guard r.fileSize == s.bytes else {
                throw InstructError("\(url.path): \(r.fileSize) bytes, the manifest says \(s.bytes) (truncated or replaced shard)")
            }
            let h = XXH64.hex(r.fileChecksum())
            guard h == s.xxh64 else { throw InstructError("\(url.path): checksum \(h), the manifest says \(s.xxh64) (corrupt shard)") }
            guard r.recordCount == s.records else {
                throw InstructError("\(url.path): \(r.recordCount) records, the manifest says \(s.records)")
            }
        }
    }
}
