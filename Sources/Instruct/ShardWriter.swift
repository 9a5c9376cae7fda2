// Writes records into zstd shards (ShardFormat.swift) of a target size with zstd's streaming API
// (ZSTD_compressStream2), each shard written to a temporary file and renamed into place when complete.
import CZstd
import Foundation

/// A shard as written: what the manifest records about it.
public struct ShardInfo: Codable, Sendable, Equatable {
    public var file: String
    public var split: String
    public var records: Int
    public var bytes: Int
    public var uncompressedBytes: Int
    /// XXH64 of the whole file, as 16 hex digits.
    public var xxh64: String

    enum CodingKeys: String, CodingKey {
        case file, split, records, bytes, xxh64
        case uncompressedBytes = "uncompressed_bytes"
    }
}

/// Appends payloads (records' JSON, packed sequences) to shards named `<prefix>-NNNNN.ecs` in a directory.
public final class ShardWriter {
    public let directory: URL
    public let prefix: String
    public let kind: ShardKind
    /// A shard is closed once its compressed size reaches this.
    public let targetShardBytes: Int
    /// Uncompressed bytes per zstd block (the unit of checksums and of seeking when resuming).
    public let blockBytes: Int
    public let level: Int32
    public private(set) var shards: [ShardInfo] = []

    private let cctx: OpaquePointer
    private var block: [UInt8] = []
    private var blockRecords: UInt32 = 0
    private var out: [UInt8] = []
    private var file: FileHandle?
    private var tmpURL: URL?
    private var fileBytes: [UInt8] = []        // the current shard's bytes (hashed and written at the end of each block)
    private var fileHash: UInt64 = 0
    private var written = 0
    private var blocks: [ShardBlock] = []
    private var shardRecords = 0
    private var shardUncompressed = 0

    public init(directory: URL, prefix: String, kind: ShardKind, targetShardBytes: Int = 64 << 20,
                blockBytes: Int = 1 << 20, level: Int32 = 3) throws {
        self.directory = directory; self.prefix = prefix; self.kind = kind
        self.targetShardBytes = max(1, targetShardBytes); self.blockBytes = max(1, blockBytes); self.level = level
        guard let c = ZSTD_createCCtx() else { throw InstructError("zstd: cannot create a compression context") }
        cctx = c
        let r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)
        if ZSTD_isError(r) != 0 { throw InstructError("zstd: level \(level): \(zstdErrorName(r))") }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        block.reserveCapacity(self.blockBytes + 4096)
        out = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
    }

    deinit {
        ZSTD_freeCCtx(cctx)
        if let f = file { try? f.close() }
        if let t = tmpURL { try? FileManager.default.removeItem(at: t) }
    }

    /// Appends one payload.
    public func append(_ payload: UnsafeRawBufferPointer) throws {
        guard payload.count <= Int(UInt32.max) else { throw InstructError("a record of \(payload.count) bytes is too large for a shard") }
        if file == nil { try openShard() }
        block.appendLE(UInt32(payload.count))
        block.append(contentsOf: payload)
        blockRecords += 1
        shardRecords += 1
        if block.count >= blockBytes { try flushBlock() }
        if written >= targetShardBytes { try closeShard() }
    }

    public func append(_ payload: Data) throws { try payload.withUnsafeBytes { try append($0) } }
    public func append(_ payload: [UInt8]) throws { try payload.withUnsafeBytes { try append($0) } }

    /// Closes the last shard and returns every shard written, with the split name given.
    public func finish(split: String) throws -> [ShardInfo] {
        if file != nil { try closeShard() }
        return shards.map { var s = $0; s.split = split; return s }
    }

    private func openShard() throws {
        let name = String(format: "%@-%05d.ecs", prefix, shards.count)
        let tmp = directory.appendingPathComponent(".\(name).tmp")
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil), let h = try? FileHandle(forWritingTo: tmp) else {
            throw InstructError("\(tmp.path): cannot create the shard file")
        }
        file = h; tmpURL = tmp
        blocks = []; shardRecords = 0; shardUncompressed = 0; written = 0
        fileBytes = ShardCodec.header(kind: kind)
        try writePending()
    }

    /// Hashes and writes `fileBytes` (the file hash runs over the whole file in order: XXH64 is not incremental here,
    /// so the hash is chained over pieces: h = XXH64(piece, seed: h)).
    private func writePending() throws {
        fileHash = fileBytes.withUnsafeBytes { XXH64.hash($0, seed: fileHash) }
        do { try file!.write(contentsOf: fileBytes) } catch {
            throw InstructError("\(tmpURL!.path): write failed (\(error.localizedDescription))")
        }
        written += fileBytes.count
        fileBytes.removeAll(keepingCapacity: true)
    }

    private func flushBlock() throws {
        guard blockRecords > 0 else { return }
        let offset = UInt64(written)
        let checksum = block.withUnsafeBytes { XXH64.hash($0) }
        var csize = 0
        try block.withUnsafeBytes { src in
            var input = ZSTD_inBuffer(src: src.baseAddress, size: src.count, pos: 0)
            while true {
                let rest = try out.withUnsafeMutableBytes { dst -> Int in
                    var output = ZSTD_outBuffer(dst: dst.baseAddress, size: dst.count, pos: 0)
                    let r = ZSTD_compressStream2(cctx, &output, &input, ZSTD_e_end)
                    if ZSTD_isError(r) != 0 { throw InstructError("zstd: compression failed: \(zstdErrorName(r))") }
                    fileBytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: dst[0..<output.pos]))
                    csize += output.pos
                    return r
                }
                if rest == 0 { break }
            }
        }
        blocks.append(ShardBlock(offset: offset, compressedSize: UInt64(csize), uncompressedSize: UInt64(block.count),
                                 records: blockRecords, checksum: checksum))
        shardUncompressed += block.count
        block.removeAll(keepingCapacity: true)
        blockRecords = 0
        try writePending()
    }

    private func closeShard() throws {
        try flushBlock()
        fileBytes = ShardCodec.footer(blocks, footerOffset: UInt64(written))
        try writePending()
        let name = String(format: "%@-%05d.ecs", prefix, shards.count)
        let final = directory.appendingPathComponent(name)
        do { try file!.synchronize(); try file!.close() } catch {
            throw InstructError("\(tmpURL!.path): cannot close (\(error.localizedDescription))")
        }
        file = nil
        guard rename(tmpURL!.path, final.path) == 0 else {
            throw InstructError("\(final.path): cannot move the finished shard into place (\(String(cString: strerror(errno))))")
        }
        tmpURL = nil
        shards.append(ShardInfo(file: name, split: "", records: shardRecords, bytes: written,
                                uncompressedBytes: shardUncompressed, xxh64: XXH64.hex(fileHash)))
        fileHash = 0
    }
}
