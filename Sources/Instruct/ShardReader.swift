// Reads one shard (ShardFormat.swift): validates the header and footer, decompresses a block at a time incrementally
// with zstd's streaming API (ZSTD_decompressStream) and checks each block's XXH64. Every error names the shard.
import CZstd
import Foundation

public final class ShardReader {
    public let url: URL
    public let kind: ShardKind
    public let blocks: [ShardBlock]
    public let fileSize: Int
    private let fd: Int32
    private let dctx: OpaquePointer
    private var chunk: [UInt8]

    public var recordCount: Int { blocks.reduce(0) { $0 + Int($1.records) } }

    public init(url: URL) throws {
        self.url = url
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw InstructError("\(url.path): cannot open the shard (\(String(cString: strerror(errno))))") }
        self.fd = fd
        guard let d = ZSTD_createDCtx() else { close(fd); throw InstructError("zstd: cannot create a decompression context") }
        dctx = d
        chunk = [UInt8](repeating: 0, count: ZSTD_DStreamInSize())
        var st = stat()
        fstat(fd, &st)
        fileSize = Int(st.st_size)
        let fail = { (what: String) -> InstructError in
            InstructError("\(url.path): \(what); the shard is truncated or not an Ecom shard: rebuild it (ecom-data build / pack)")
        }
        guard fileSize >= ShardLayout.headerSize + ShardLayout.trailerSize else {
            close(fd); ZSTD_freeDCtx(d); throw fail("file of \(fileSize) bytes is shorter than a header and a trailer")
        }
        var head = [UInt8](repeating: 0, count: ShardLayout.headerSize)
        var tail = [UInt8](repeating: 0, count: ShardLayout.trailerSize)
        Self.readExactly(fd, &head, at: 0)
        Self.readExactly(fd, &tail, at: fileSize - ShardLayout.trailerSize)
        guard Array(head[0..<8]) == ShardLayout.magic else {
            close(fd); ZSTD_freeDCtx(d); throw fail("expected the magic 'ECOMSHRD' at offset 0")
        }
        let version = head.readLE(UInt32.self, at: 8)
        guard version == ShardLayout.version else {
            close(fd); ZSTD_freeDCtx(d)
            throw InstructError("\(url.path): shard format version \(version); this build reads version \(ShardLayout.version)")
        }
        guard let k = ShardKind(rawValue: head.readLE(UInt32.self, at: 12)) else {
            close(fd); ZSTD_freeDCtx(d); throw fail("unknown shard kind \(head.readLE(UInt32.self, at: 12))")
        }
        kind = k
        guard Array(tail[16..<24]) == ShardLayout.endMagic else {
            close(fd); ZSTD_freeDCtx(d); throw fail("expected the end magic 'ECOMEND1' in the last 8 bytes")
        }
        // Both numbers come from the file: compare them with its size before any arithmetic can overflow.
        let declaredCount = tail.readLE(UInt64.self, at: 0)
        let declaredOffset = tail.readLE(UInt64.self, at: 8)
        let footerSpace = UInt64(fileSize - ShardLayout.trailerSize)
        guard declaredOffset >= UInt64(ShardLayout.headerSize), declaredOffset <= footerSpace,
              declaredCount <= (footerSpace - declaredOffset) / UInt64(ShardLayout.blockEntrySize),
              declaredOffset + declaredCount * UInt64(ShardLayout.blockEntrySize) == footerSpace else {
            close(fd); ZSTD_freeDCtx(d); throw fail("the footer (\(declaredCount) blocks at offset \(declaredOffset)) does not fit the file")
        }
        let count = Int(declaredCount), footerOffset = Int(declaredOffset)
        var footer = [UInt8](repeating: 0, count: count * ShardLayout.blockEntrySize)
        Self.readExactly(fd, &footer, at: footerOffset)
        var bs: [ShardBlock] = []
        var expected = UInt64(ShardLayout.headerSize)
        for i in 0..<count {
            let o = i * ShardLayout.blockEntrySize
            let b = ShardBlock(offset: footer.readLE(UInt64.self, at: o), compressedSize: footer.readLE(UInt64.self, at: o + 8),
                               uncompressedSize: footer.readLE(UInt64.self, at: o + 16),
                               records: footer.readLE(UInt32.self, at: o + 24), checksum: footer.readLE(UInt64.self, at: o + 32))
            guard b.offset == expected else {
                close(fd); ZSTD_freeDCtx(d); throw fail("block \(i) should start at offset \(expected), the footer says \(b.offset)")
            }
            guard b.compressedSize <= UInt64(footerOffset) - expected else {
                close(fd); ZSTD_freeDCtx(d); throw fail("block \(i) (\(b.compressedSize) bytes at offset \(b.offset)) runs into the footer at \(footerOffset)")
            }
            // zstd expands at most 32768-fold (a 128 KiB run-length block is 4 bytes); a larger size is not a real block
            // and must not become an allocation.
            guard b.uncompressedSize <= b.compressedSize * ShardLayout.maximumExpansion else {
                close(fd); ZSTD_freeDCtx(d)
                throw fail("block \(i) claims \(b.uncompressedSize) bytes from \(b.compressedSize) compressed, more than zstd can expand")
            }
            expected += b.compressedSize
            bs.append(b)
        }
        guard expected == UInt64(footerOffset) else {
            close(fd); ZSTD_freeDCtx(d); throw fail("blocks end at \(expected) but the footer starts at \(footerOffset)")
        }
        blocks = bs
    }

    deinit {
        close(fd)
        ZSTD_freeDCtx(dctx)
    }

    static func readExactly(_ fd: Int32, _ buf: inout [UInt8], at offset: Int) {
        var done = 0
        buf.withUnsafeMutableBytes { p in
            while done < p.count {
                let n = pread(fd, p.baseAddress! + done, p.count - done, off_t(offset + done))
                if n <= 0 { break }
                done += n
            }
        }
    }

    /// Block `index` decompressed into `buffer` (resized), its checksum verified.
    public func readBlock(_ index: Int, into buffer: inout [UInt8]) throws {
        let b = blocks[index]
        let place = "\(url.path): block \(index) (offset \(b.offset))"
        let outSize = Int(b.uncompressedSize)
        var produced = 0
        ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only)
        var remaining = Int(b.compressedSize)
        var at = Int(b.offset)
        var lastRet = 1
        var tmp = [UInt8](unsafeUninitializedCapacity: outSize) { _, n in n = outSize }
        try tmp.withUnsafeMutableBytes { dst in
            while remaining > 0 {
                let want = min(remaining, chunk.count)
                let got = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, want, off_t(at)) }
                guard got > 0 else { throw InstructError("\(place): unexpected end of file (truncated shard)") }
                remaining -= got; at += got
                try chunk.withUnsafeBytes { src in
                    var input = ZSTD_inBuffer(src: src.baseAddress, size: got, pos: 0)
                    while input.pos < input.size {
                        var output = ZSTD_outBuffer(dst: dst.baseAddress! + produced, size: outSize - produced, pos: 0)
                        let r = ZSTD_decompressStream(dctx, &output, &input)
                        if ZSTD_isError(r) != 0 { throw InstructError("\(place): corrupt zstd data (\(zstdErrorName(r)))") }
                        produced += output.pos
                        lastRet = r
                        if output.pos == 0 && produced == outSize && input.pos < input.size && r != 0 {
                            throw InstructError("\(place): decompresses to more than the \(outSize) bytes the footer records")
                        }
                        if r == 0 { break }
                    }
                }
            }
        }
        guard lastRet == 0, produced == outSize else {
            throw InstructError("\(place): decompressed \(produced) of \(outSize) bytes; the block is truncated or corrupt")
        }
        let h = tmp.withUnsafeBytes { XXH64.hash($0) }
        guard h == b.checksum else {
            throw InstructError("\(place): checksum mismatch (XXH64 \(XXH64.hex(h)), footer \(XXH64.hex(b.checksum))); the shard is corrupt: rebuild it")
        }
        buffer = tmp
    }

    /// Calls `body` with each record of a decompressed block; errors name the shard and block.
    public func forEachRecord(inBlock index: Int, _ data: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try data.withUnsafeBytes { p in
            var i = 0
            var n: UInt32 = 0
            while i < p.count {
                guard i + 4 <= p.count else { throw InstructError("\(url.path): block \(index): truncated record length at byte \(i)") }
                let len = Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
                i += 4
                guard i + len <= p.count else {
                    throw InstructError("\(url.path): block \(index): record \(n) of \(len) bytes runs past the block's end")
                }
                try body(UnsafeRawBufferPointer(rebasing: p[i..<(i + len)]))
                i += len; n += 1
            }
            guard n == blocks[index].records else {
                throw InstructError("\(url.path): block \(index): \(n) records, the footer says \(blocks[index].records)")
            }
        }
    }

    /// Calls `body` with each record's payload in order, with its block and its index in the block, until `body`
    /// returns false (the rest of that block is still checked). Returns false when `body` stopped early.
    @discardableResult
    public func forEachPayload(_ body: (_ payload: UnsafeRawBufferPointer, _ block: Int, _ index: Int) throws -> Bool) throws -> Bool {
        var buf: [UInt8] = []
        for b in blocks.indices {
            try readBlock(b, into: &buf)
            var i = 0, going = true
            try forEachRecord(inBlock: b, buf) { p in
                if going { going = try body(p, b, i) }
                i += 1
            }
            if !going { return false }
        }
        return true
    }

    /// Every record's payload, in order.
    public func readAll() throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        try forEachPayload { p, _, _ in out.append(Array(p)); return true }
        return out
    }

    /// The file's chained XXH64 (header, each block, footer and trailer), as the manifest records it.
    public func fileChecksum() -> UInt64 {
        var pieces: [(Int, Int)] = [(0, ShardLayout.headerSize)]
        for b in blocks { pieces.append((Int(b.offset), Int(b.compressedSize))) }
        let footerStart = Int(blocks.last.map { $0.offset + $0.compressedSize } ?? UInt64(ShardLayout.headerSize))
        pieces.append((footerStart, fileSize - footerStart))
        var h: UInt64 = 0
        var buf: [UInt8] = []
        for (off, len) in pieces {
            buf = [UInt8](repeating: 0, count: len)
            Self.readExactly(fd, &buf, at: off)
            h = buf.withUnsafeBytes { XXH64.hash($0, seed: h) }
        }
        return h
    }
}
