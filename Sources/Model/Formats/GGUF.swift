// Reading GGUF files (ggml's docs/gguf.md, versions 2 and 3, little-endian): header, typed metadata, tensor infos,
// alignment, and the memory-mapped data section; every read is bounds-checked, so a hostile file is an error.
//
// Layout: "GGUF" | version u32 | tensor_count u64 | kv_count u64 | kv_count x (key string, value type u32, value) |
// tensor_count x (name string, n_dims u32, dims u64[n_dims] (ne0 first), ggml type u32, offset u64) | padding to
// `general.alignment` (default 32) | data. A string is a u64 byte length and UTF-8 bytes; an array is an element
// type u32, a u64 count and the elements (arrays may nest). Tensor offsets are relative to the data section.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The type tag of a GGUF metadata value (`gguf_metadata_value_type`).
public enum GGUFValueType: UInt32, Sendable, CaseIterable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7, string = 8
    case array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// The fewest bytes one value of this type takes in a file (used to reject absurd array counts).
    var minimumSize: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64, .string: 8
        case .array: 12
        }
    }
}

/// One GGUF metadata value. Arrays keep their element type, so that an empty array still says what it holds.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    case array(GGUFValueType, [GGUFValue])

    /// The value's type tag.
    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .uint64: .uint64
        case .int64: .int64
        case .float32: .float32
        case .float64: .float64
        case .bool: .bool
        case .string: .string
        case .array: .array
        }
    }

    /// An integer value as `Int` (nil for other types, or a `uint64` above `Int.max`).
    public var int: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// A floating-point or integer value as `Double` (nil for strings, booleans and arrays).
    public var double: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: int.map(Double.init)
        }
    }

    /// A floating-point or integer value as `Float` (`float32` exactly; others rounded).
    public var float: Float? {
        if case .float32(let v) = self { return v }
        return double.map(Float.init)
    }

    /// A boolean value.
    public var bool: Bool? { if case .bool(let v) = self { v } else { nil } }

    /// A string value.
    public var string: String? { if case .string(let v) = self { v } else { nil } }

    /// An array's elements.
    public var array: [GGUFValue]? { if case .array(_, let v) = self { v } else { nil } }

    /// An array of strings (nil when this is not an array or an element is not a string).
    public var stringArray: [String]? {
        guard let a = array else { return nil }
        var out: [String] = []
        out.reserveCapacity(a.count)
        for v in a { guard let s = v.string else { return nil }; out.append(s) }
        return out
    }

    /// An array of integers (nil when this is not an array or an element is not an integer that fits `Int`).
    public var intArray: [Int]? {
        guard let a = array else { return nil }
        var out: [Int] = []
        out.reserveCapacity(a.count)
        for v in a { guard let i = v.int else { return nil }; out.append(i) }
        return out
    }

    /// An array of numbers as `Float` (nil when this is not an array or an element is not a number).
    public var floatArray: [Float]? {
        guard let a = array else { return nil }
        var out: [Float] = []
        out.reserveCapacity(a.count)
        for v in a { guard let f = v.float else { return nil }; out.append(f) }
        return out
    }
}

/// A malformed, unsupported or unreadable GGUF file. The description names the file, the key or tensor concerned
/// (when there is one), the reason, and the byte offset where the problem was found (when useful).
public struct GGUFError: Error, CustomStringConvertible, Equatable {
    /// The file path.
    public var file: String
    /// What the error is about, e.g. `key 'general.alignment'` or `tensor 'blk.0.attn_q.weight'`; nil for the file.
    public var subject: String?
    /// The reason.
    public var message: String
    /// The byte offset in the file where the problem was found, when it is one place.
    public var offset: Int?

    public init(file: String, subject: String? = nil, _ message: String, offset: Int? = nil) {
        self.file = file; self.subject = subject; self.message = message; self.offset = offset
    }

    public var description: String {
        var s = "\(file): "
        if let subject { s += "\(subject): " }
        s += message
        if let offset { s += " (at byte \(offset))" }
        return s
    }
}

/// One tensor's description in a GGUF file.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The tensor's name, e.g. `blk.0.attn_q.weight`.
    public var name: String
    /// The dimensions in ggml order: `ne0` first, the fastest-varying (row length) dimension.
    public var dimensions: [Int]
    /// The element / block type.
    public var type: GGMLType
    /// Byte offset of the data relative to the start of the data section (a multiple of the alignment).
    public var offset: Int
    /// Bytes of data (whole blocks of `type`).
    public var byteCount: Int

    /// The shape in PyTorch / numpy order (outermost first): `dimensions` reversed.
    public var shape: [Int] { dimensions.reversed() }
    /// The number of values (the product of the dimensions).
    public var count: Int { dimensions.reduce(1, *) }
}

/// A GGUF file (versions 2 and 3), opened read-only and memory-mapped; tensor data is read from the mapping without
/// copying the file. Opening parses and validates the whole header, metadata and tensor table; it never reads
/// outside the file, whatever the file holds.
public final class GGUFFile: @unchecked Sendable {
    /// The file path, as given.
    public let path: String
    /// The format version (2 or 3).
    public let version: Int
    /// Metadata values by key.
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Tensor descriptions in file order.
    public let tensors: [GGUFTensorInfo]
    /// The data alignment (`general.alignment`, default 32).
    public let alignment: Int
    /// Absolute byte offset of the data section in the file.
    public let dataOffset: Int
    /// The file size in bytes.
    public let fileSize: Int

    private let base: UnsafeMutableRawPointer?
    private let tensorIndex: [String: Int]

    /// The alignment when the file does not set `general.alignment`.
    public static let defaultAlignment = 32
    /// Deepest array nesting accepted (real files nest at most once; the limit bounds recursion on hostile input).
    public static let maximumArrayNesting = 16
    /// Most dimensions a tensor may have (ggml's GGML_MAX_DIMS).
    public static let maximumDimensions = 4

    /// Opens, maps and validates `url`. Throws ``GGUFError`` for an unreadable, truncated, malformed or unsupported
    /// file: bad magic, a version other than 2 or 3, a count larger than the file could hold, a string or array past
    /// the end, invalid UTF-8, an unknown value or tensor type, duplicate keys or tensor names, a bad alignment, a
    /// tensor with no or more than 4 dimensions, an overflowing size, a row length (`ne0`) that is not whole blocks,
    /// or a tensor whose offset is unaligned or whose data lies past the end of the file.
    public init(url: URL) throws {
        let file = url.path
        path = file
        let fd = open(file, O_RDONLY)
        guard fd >= 0 else { throw GGUFError(file: file, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw GGUFError(file: file, "cannot stat: \(String(cString: strerror(errno)))") }
        let size = Int(st.st_size)
        guard size >= 24 else {
            throw GGUFError(file: file, "file is \(size) bytes, shorter than the 24-byte GGUF header; not a GGUF file")
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw GGUFError(file: file, "cannot map: \(String(cString: strerror(errno)))")
        }
        do {
            var r = GGUFCursor(bytes: UnsafeRawBufferPointer(start: p, count: size), file: file)
            let header = try Self.readHeader(&r)
            version = header.version
            var meta: [String: GGUFValue] = [:]
            var keys: [String] = []
            meta.reserveCapacity(header.kvCount)
            keys.reserveCapacity(header.kvCount)
            for _ in 0..<header.kvCount {
                let at = r.position
                let key = try r.string("metadata key")
                let tag = try r.u32("value type of key '\(key)'")
                guard let type = GGUFValueType(rawValue: tag) else {
                    throw GGUFError(file: file, subject: "key '\(key)'", "unknown metadata value type \(tag)", offset: r.position - 4)
                }
                let value = try r.value(type, key: key, depth: 0)
                guard meta.updateValue(value, forKey: key) == nil else {
                    throw GGUFError(file: file, subject: "key '\(key)'", "duplicate metadata key", offset: at)
                }
                keys.append(key)
            }
            metadata = meta
            metadataKeys = keys
            alignment = try Self.alignment(meta["general.alignment"], file: file)

            var infos: [GGUFTensorInfo] = []
            infos.reserveCapacity(header.tensorCount)
            var index: [String: Int] = [:]
            for _ in 0..<header.tensorCount {
                let at = r.position
                let info = try Self.readTensorInfo(&r, alignment: alignment)
                guard index.updateValue(infos.count, forKey: info.name) == nil else {
                    throw GGUFError(file: file, subject: "tensor '\(info.name)'", "duplicate tensor name", offset: at)
                }
                infos.append(info)
            }
            // The data section starts at the first aligned offset after the tensor table.
            let end = r.position
            let padded = end % alignment == 0 ? end : end + (alignment - end % alignment)
            dataOffset = padded
            let dataSize = max(0, size - padded)
            for t in infos where t.offset > dataSize || t.byteCount > dataSize - t.offset {
                throw GGUFError(
                    file: file, subject: "tensor '\(t.name)'",
                    "data (\(t.byteCount) bytes at offset \(t.offset) in the data section at byte \(padded)) runs past the end of the "
                        + "\(size)-byte file (data section holds \(dataSize) bytes); the file is truncated or corrupt")
            }
            tensors = infos
            tensorIndex = index
        } catch {
            munmap(p, size)
            throw error
        }
        base = p
        fileSize = size
    }

    deinit { if let base { munmap(base, fileSize) } }

    /// The tensor named `name`, if present.
    public func tensor(named name: String) -> GGUFTensorInfo? { tensorIndex[name].map { tensors[$0] } }

    /// The raw bytes of a tensor's data inside the mapping, valid while this `GGUFFile` is alive.
    public func rawBytes(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        precondition(tensor.offset >= 0 && tensor.byteCount >= 0
            && tensor.offset <= fileSize - dataOffset && tensor.byteCount <= fileSize - dataOffset - tensor.offset,
            "tensor '\(tensor.name)' is not inside \(path)")
        return UnsafeRawBufferPointer(start: base.map { UnsafeRawPointer($0) + dataOffset + tensor.offset }, count: tensor.byteCount)
    }

    /// The raw bytes of the tensor named `name`; throws when there is no such tensor.
    public func rawBytes(named name: String) throws -> UnsafeRawBufferPointer { rawBytes(of: try require(name)) }

    /// The tensor named `name` dequantized to Float32 (values in ggml order, `ne0` fastest), bit-for-bit as
    /// `gguf.quants.dequantize`. Throws when there is no such tensor or its type cannot be dequantized.
    public func floats(of name: String) throws -> [Float] {
        let t = try require(name)
        guard t.type.canDequantize else {
            throw GGUFError(file: path, subject: "tensor '\(name)'", "dequantization of \(t.type) is not supported")
        }
        let count = t.count
        let src = rawBytes(of: t)
        return [Float](unsafeUninitializedCapacity: count) { buf, initialized in
            GGUFDequantize.dequantize(t.type, src, count: count, into: buf)
            initialized = count
        }
    }

    private func require(_ name: String) throws -> GGUFTensorInfo {
        guard let t = tensor(named: name) else {
            throw GGUFError(file: path, subject: "tensor '\(name)'", "no such tensor (the file has \(tensors.count))")
        }
        return t
    }

    // MARK: parsing

    private static func readHeader(_ r: inout GGUFCursor) throws -> (version: Int, tensorCount: Int, kvCount: Int) {
        let magic = try r.u32("magic")
        guard magic == 0x4655_4747 else {  // "GGUF" read as a little-endian u32
            let shown = withUnsafeBytes(of: magic.littleEndian) { String(decoding: $0, as: UTF8.self) }
            throw GGUFError(file: r.file, "bad magic \(String(reflecting: shown)), expected \"GGUF\"; not a GGUF file", offset: 0)
        }
        let v = try r.u32("version")
        guard v == 2 || v == 3 else {
            let hint = v & 0xFFFF == 0 && v != 0 ? " (a big-endian file? only little-endian GGUF is supported)" : ""
            throw GGUFError(file: r.file, "unsupported GGUF version \(v)\(hint); versions 2 and 3 are supported", offset: 4)
        }
        let tensorCount = try r.u64("tensor count")
        let kvCount = try r.u64("metadata count")
        // Each metadata pair takes at least 13 bytes (key length, value type, a 1-byte value), each tensor info 32
        // (name length, n_dims, one dimension, type, offset): a count beyond what the rest of the file could hold is
        // corrupt, and rejecting it here bounds every allocation below.
        let rest = UInt64(r.remaining)
        guard kvCount <= rest / 13 else {
            throw GGUFError(file: r.file, "metadata count \(kvCount) is larger than the \(rest) remaining bytes could hold", offset: 16)
        }
        guard tensorCount <= rest / 32 else {
            throw GGUFError(file: r.file, "tensor count \(tensorCount) is larger than the \(rest) remaining bytes could hold", offset: 8)
        }
        return (Int(v), Int(tensorCount), Int(kvCount))
    }

    private static func alignment(_ value: GGUFValue?, file: String) throws -> Int {
        guard let value else { return defaultAlignment }
        let isInteger: Bool
        switch value.type {
        case .uint8, .int8, .uint16, .int16, .uint32, .int32, .uint64, .int64: isInteger = true
        default: isInteger = false
        }
        guard isInteger, let a = value.int else {
            throw GGUFError(file: file, subject: "key 'general.alignment'", "must be an integer (uint32), got \(value)")
        }
        guard a > 0, a & (a - 1) == 0 else {
            throw GGUFError(file: file, subject: "key 'general.alignment'", "alignment \(a) is not a nonzero power of two")
        }
        guard a <= 1 << 30 else {
            throw GGUFError(file: file, subject: "key 'general.alignment'", "alignment \(a) is larger than 2^30")
        }
        return a
    }

    private static func readTensorInfo(_ r: inout GGUFCursor, alignment: Int) throws -> GGUFTensorInfo {
        let name = try r.string("tensor name")
        let subject = "tensor '\(name)'"
        let nDimsAt = r.position
        let nDims = try r.u32("n_dims of \(subject)")
        guard nDims >= 1 && nDims <= UInt32(maximumDimensions) else {
            throw GGUFError(file: r.file, subject: subject, "n_dims \(nDims) outside 1...\(maximumDimensions)", offset: nDimsAt)
        }
        var dims: [Int] = []
        var count = 1
        for i in 0..<Int(nDims) {
            let at = r.position
            let d = try r.u64("dimension \(i) of \(subject)")
            guard let di = Int(exactly: d) else {
                throw GGUFError(file: r.file, subject: subject, "dimension \(i) is \(d), too large", offset: at)
            }
            let (c, overflow) = count.multipliedReportingOverflow(by: di)
            guard !overflow else {
                throw GGUFError(file: r.file, subject: subject, "dimensions \(dims + [di]) overflow: the element count does not fit 64 bits", offset: at)
            }
            dims.append(di)
            count = c
        }
        let typeAt = r.position
        let tag = try r.u32("type of \(subject)")
        guard let type = GGMLType(rawValue: tag) else {
            throw GGUFError(file: r.file, subject: subject, "unknown ggml type \(tag)", offset: typeAt)
        }
        guard dims[0] % type.blockSize == 0 else {
            throw GGUFError(
                file: r.file, subject: subject,
                "row length ne0 = \(dims[0]) is not a multiple of the \(type) block size \(type.blockSize)", offset: nDimsAt + 4)
        }
        guard let bytes = type.byteCount(values: count) else {
            throw GGUFError(file: r.file, subject: subject, "\(count) \(type) values overflow the byte size")
        }
        let offsetAt = r.position
        let off = try r.u64("offset of \(subject)")
        guard let offset = Int(exactly: off) else {
            throw GGUFError(file: r.file, subject: subject, "data offset \(off) is too large", offset: offsetAt)
        }
        guard offset % alignment == 0 else {
            throw GGUFError(file: r.file, subject: subject, "data offset \(off) is not a multiple of the alignment \(alignment)", offset: offsetAt)
        }
        return GGUFTensorInfo(name: name, dimensions: dims, type: type, offset: offset, byteCount: bytes)
    }
}

/// A bounds-checked little-endian reader over the mapped file.
struct GGUFCursor {
    let bytes: UnsafeRawBufferPointer
    let file: String
    private(set) var position = 0

    init(bytes: UnsafeRawBufferPointer, file: String) { self.bytes = bytes; self.file = file }

    var remaining: Int { bytes.count - position }

    private mutating func take(_ n: Int, _ what: @autoclosure () -> String) throws -> Int {
        guard n <= remaining else {
            throw GGUFError(
                file: file, "truncated: \(what()) needs \(n) bytes but the file ends \(remaining) bytes later", offset: position)
        }
        let at = position
        position += n
        return at
    }

    private mutating func load<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let at = try take(MemoryLayout<T>.size, what())
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: T.self))
    }

    mutating func u32(_ what: @autoclosure () -> String) throws -> UInt32 { try load(UInt32.self, what()) }
    mutating func u64(_ what: @autoclosure () -> String) throws -> UInt64 { try load(UInt64.self, what()) }

    /// A u64 length and that many UTF-8 bytes.
    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let lengthAt = position
        let n = try u64("length of \(what())")
        guard n <= UInt64(remaining) else {
            throw GGUFError(
                file: file, "\(what()): string length \(n) runs past the end of the file (\(remaining) bytes left)", offset: lengthAt)
        }
        let at = try take(Int(n), what())
        let slice = UnsafeRawBufferPointer(rebasing: bytes[at..<(at + Int(n))])
        guard let s = String(validating: slice, as: UTF8.self) else {
            throw GGUFError(file: file, "\(what()): string is not valid UTF-8", offset: at)
        }
        return s
    }

    /// One metadata value of `type` (arrays recursively, at most ``GGUFFile/maximumArrayNesting`` deep).
    mutating func value(_ type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue {
        func what() -> String { "value of key '\(key)'" }
        switch type {
        case .uint8: return .uint8(try load(UInt8.self, what()))
        case .int8: return .int8(try load(Int8.self, what()))
        case .uint16: return .uint16(try load(UInt16.self, what()))
        case .int16: return .int16(try load(Int16.self, what()))
        case .uint32: return .uint32(try load(UInt32.self, what()))
        case .int32: return .int32(try load(Int32.self, what()))
        case .uint64: return .uint64(try load(UInt64.self, what()))
        case .int64: return .int64(try load(Int64.self, what()))
        case .float32: return .float32(Float(bitPattern: try load(UInt32.self, what())))
        case .float64: return .float64(Double(bitPattern: try load(UInt64.self, what())))
        case .bool:
            return .bool(try load(UInt8.self, what()) != 0)  // as ggml and numpy read it: nonzero is true
        case .string: return .string(try string(what()))
        case .array:
            guard depth < GGUFFile.maximumArrayNesting else {
                throw GGUFError(file: file, subject: "key '\(key)'", "arrays nested deeper than \(GGUFFile.maximumArrayNesting)", offset: position)
            }
            let tagAt = position
            let tag = try u32("array element type of key '\(key)'")
            guard let element = GGUFValueType(rawValue: tag) else {
                throw GGUFError(file: file, subject: "key '\(key)'", "unknown array element type \(tag)", offset: tagAt)
            }
            let countAt = position
            let n = try u64("array length of key '\(key)'")
            guard n <= UInt64(remaining / element.minimumSize) else {
                throw GGUFError(
                    file: file, subject: "key '\(key)'",
                    "array of \(n) \(element) values is larger than the \(remaining) remaining bytes could hold", offset: countAt)
            }
            var items: [GGUFValue] = []
            items.reserveCapacity(Int(n))
            for _ in 0..<Int(n) { items.append(try value(element, key: key, depth: depth + 1)) }
            return .array(element, items)
        }
    }
}
