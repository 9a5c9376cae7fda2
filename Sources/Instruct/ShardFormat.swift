// The shard file layout (Docs/FORMATS.md): a 16-byte header, zstd-compressed blocks of length-prefixed records, and a
// footer indexing the blocks with their XXH64 checksums. All integers little-endian.
//
//   header   "ECOMSHRD" | version u32 = 1 | kind u32 (1 records, 2 packed token sequences)
//   blocks   one zstd frame each; decompressed: repeated (length u32, payload bytes)
//   footer   per block: offset u64, compressed u64, uncompressed u64, records u32, reserved u32, xxh64 u64 (40 bytes)
//   trailer  block count u64 | footer offset u64 | "ECOMEND1"
import CZstd
import Foundation

public enum ShardKind: UInt32, Codable, Sendable {
    case records = 1
    case packed = 2

    public var name: String { self == .records ? "records" : "packed" }
}

enum ShardLayout {
    static let magic: [UInt8] = Array("ECOMSHRD".utf8)
    static let endMagic: [UInt8] = Array("ECOMEND1".utf8)
    static let version: UInt32 = 1
    static let headerSize = 16
    static let trailerSize = 24
    static let blockEntrySize = 40
    /// The most a zstd frame can expand: a 128 KiB run-length block takes 4 bytes (zstd format, RFC 8878).
    static let maximumExpansion: UInt64 = 32768
}

/// One block of a shard, as its footer indexes it.
public struct ShardBlock: Sendable, Equatable {
    public var offset: UInt64
    public var compressedSize: UInt64
    public var uncompressedSize: UInt64
    public var records: UInt32
    public var checksum: UInt64
}

extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }
    func readLE<T: FixedWidthInteger>(_: T.Type, at i: Int) -> T {
        withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: i, as: T.self)) }
    }
}

enum ShardCodec {
    static func header(kind: ShardKind) -> [UInt8] {
        var h = ShardLayout.magic
        h.appendLE(ShardLayout.version)
        h.appendLE(kind.rawValue)
        return h
    }

    static func footer(_ blocks: [ShardBlock], footerOffset: UInt64) -> [UInt8] {
        var f: [UInt8] = []
        for b in blocks {
            f.appendLE(b.offset); f.appendLE(b.compressedSize); f.appendLE(b.uncompressedSize)
            f.appendLE(b.records); f.appendLE(UInt32(0)); f.appendLE(b.checksum)
        }
        f.appendLE(UInt64(blocks.count)); f.appendLE(footerOffset)
        f += ShardLayout.endMagic
        return f
    }
}

/// A zstd library error code as text.
func zstdErrorName(_ code: Int) -> String {
    String(cString: ZSTD_getErrorName(code))
}
