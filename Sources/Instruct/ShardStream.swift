// Streams the records of a shard directory for training: deterministic shuffling across shards (shard order permuted
// per epoch) and within a buffer (each window of `bufferSize` consecutive records permuted), several epochs, and an
// exact position that can be saved and restored.
//
// Resuming: the position is (epoch, records consumed in the epoch). The epoch's shard order and every window's
// permutation follow from the seed alone, so the reader seeks straight to the block holding the current window's first
// record (the footer's per-block record counts locate it), decompresses from there and continues; nothing before that
// block is read again.
import Foundation

public struct StreamPosition: Codable, Sendable, Equatable {
    public var epoch: Int
    public var consumed: Int
    public init(epoch: Int = 0, consumed: Int = 0) { self.epoch = epoch; self.consumed = consumed }
}

public final class ShardStream {
    public let directory: URL
    public let shards: [ShardInfo]
    public let seed: UInt64
    public let bufferSize: Int
    /// The number of epochs to run (nil: forever).
    public let epochs: Int?
    public let recordsPerEpoch: Int
    public private(set) var position = StreamPosition()

    private var order: [Int] = []           // shard indices in this epoch's order
    private var cursorShard = 0             // index into `order`
    private var cursorBlock = 0
    private var skipInBlock = 0             // records of the current block to skip (when seeking)
    private var reader: ShardReader?
    private var blockBuffer: [UInt8] = []
    private var pendingRecords: [[UInt8]] = []  // decoded records of the current block not yet taken into a window
    private var window: [[UInt8]] = []
    private var windowIndex = 0

    /// Opens the shards of `split` (all when nil) listed by the directory's manifest.
    public init(directory: URL, split: String? = nil, seed: UInt64, bufferSize: Int = 1024, epochs: Int? = 1) throws {
        let m = try ShardManifest.read(from: directory)
        self.directory = directory
        shards = m.shards(split: split)
        self.seed = seed; self.bufferSize = max(1, bufferSize); self.epochs = epochs
        recordsPerEpoch = shards.reduce(0) { $0 + $1.records }
        try restore(StreamPosition())
    }

    func epochOrder(_ e: Int) -> [Int] {
        var o = Array(shards.indices)
        var rng = SeededGenerator(seed: seed, key: "epoch/\(e)")
        rng.shuffle(&o)
        return o
    }

    /// Moves to a saved position.
    public func restore(_ p: StreamPosition) throws {
        guard p.consumed >= 0, p.consumed <= recordsPerEpoch, p.epoch >= 0 else {
            throw InstructError("\(directory.path): position \(p) is outside an epoch of \(recordsPerEpoch) records")
        }
        position = p
        order = epochOrder(p.epoch)
        let start = (p.consumed / bufferSize) * bufferSize
        // Locate the shard and block holding record `start` of the epoch.
        var remaining = start
        cursorShard = 0; cursorBlock = 0; skipInBlock = 0; reader = nil; pendingRecords = []
        while cursorShard < order.count && remaining >= shards[order[cursorShard]].records {
            remaining -= shards[order[cursorShard]].records
            cursorShard += 1
        }
        if cursorShard < order.count {
            try openShard()
            while remaining >= Int(reader!.blocks[cursorBlock].records) {
                remaining -= Int(reader!.blocks[cursorBlock].records)
                cursorBlock += 1
            }
            skipInBlock = remaining
        }
        try fillWindow(number: start / bufferSize)
        windowIndex = p.consumed - start
    }

    private func openShard() throws {
        let info = shards[order[cursorShard]]
        let url = directory.appendingPathComponent(info.file)
        let r = try ShardReader(url: url)
        guard r.fileSize == info.bytes, r.recordCount == info.records else {
            throw InstructError("\(url.path): \(r.fileSize) bytes and \(r.recordCount) records, the manifest says \(info.bytes) and \(info.records)")
        }
        reader = r
        cursorBlock = 0
    }

    /// The next record of the epoch's stream order, or nil at the epoch's end.
    private func nextInOrder() throws -> [UInt8]? {
        while pendingRecords.isEmpty {
            guard cursorShard < order.count else { return nil }
            if reader == nil { try openShard() }
            if cursorBlock >= reader!.blocks.count {
                cursorShard += 1; reader = nil
                continue
            }
            try reader!.readBlock(cursorBlock, into: &blockBuffer)
            var recs: [[UInt8]] = []
            try reader!.forEachRecord(inBlock: cursorBlock, blockBuffer) { recs.append(Array($0)) }
            pendingRecords = Array(recs.dropFirst(skipInBlock).reversed())
            skipInBlock = 0
            cursorBlock += 1
        }
        return pendingRecords.removeLast()
    }

    private func fillWindow(number w: Int) throws {
        window = []
        while window.count < bufferSize, let r = try nextInOrder() { window.append(r) }
        var rng = SeededGenerator(seed: seed, key: "epoch/\(position.epoch)/window/\(w)")
        rng.shuffle(&window)
        windowIndex = 0
    }

    /// The next record's payload, or nil when every epoch is done.
    public func next() throws -> [UInt8]? {
        if recordsPerEpoch == 0 { return nil }
        if position.consumed == recordsPerEpoch {
            if let e = epochs, position.epoch + 1 >= e { return nil }
            try restore(StreamPosition(epoch: position.epoch + 1, consumed: 0))
        }
        if windowIndex == window.count { try fillWindow(number: position.consumed / bufferSize) }
        guard windowIndex < window.count else {
            throw InstructError("\(directory.path): the shards hold fewer records than the manifest lists")
        }
        let r = window[windowIndex]
        window[windowIndex] = []
        windowIndex += 1
        position.consumed += 1
        return r
    }

    /// The next record decoded (record shards).
    public func nextRecord() throws -> InstructionRecord? {
        guard let bytes = try next() else { return nil }
        return try RecordCodec.decode(Data(bytes), place: "\(directory.path): epoch \(position.epoch) record \(position.consumed - 1)")
    }
}
