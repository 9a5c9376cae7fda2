// Reading and writing the safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a
// JSON header mapping names to {dtype, shape, data_offsets}, then one byte buffer that the tensors index without holes.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Element types of safetensors files. Ecom computes in Float32 and reads F32, F16 and BF16 weights; the other
/// types are recognised so that a file holding them still opens and names them in errors.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .f16, .bf16, .i16: 2
        case .i8, .u8, .bool: 1
        }
    }
}

/// One tensor's description in a safetensors header.
public struct SafeTensorsEntry: Sendable, Equatable {
    public var name: String
    public var dtype: SafeTensorsDType
    public var shape: [Int]
    /// Byte range inside the data buffer (after the header).
    public var range: Range<Int>
    /// The number of elements (the product of the shape; 1 for a scalar).
    public var count: Int { shape.reduce(1, *) }
}

/// A malformed or unreadable safetensors file; the message names the file and the tensor or header field.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var message: String
    public init(file: String, _ message: String) { self.file = file; self.message = message }
    public var description: String { "\(file): \(message)" }
}

/// A safetensors file opened read-only and memory-mapped; tensors are read from the mapping without copying the file.
public final class SafeTensorsFile: @unchecked Sendable {
    /// The file path, as given.
    public let path: String
    /// Tensors by name.
    public let entries: [String: SafeTensorsEntry]
    /// The header's `__metadata__` strings, if any.
    public let metadata: [String: String]
    private let base: UnsafeMutableRawPointer?
    private let mappedLength: Int
    private let dataOffset: Int

    /// Largest header accepted (the reference implementation's limit is 100 MB).
    public static let maximumHeaderLength = 100_000_000

    /// Opens and validates `url`: header length inside the file, header JSON, known dtypes, non-negative shapes whose
    /// byte size equals the data range, ranges inside the buffer, not overlapping, and covering it without holes.
    public init(contentsOf url: URL) throws {
        path = url.path
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw SafeTensorsError(file: url.path, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SafeTensorsError(file: url.path, "cannot stat: \(String(cString: strerror(errno)))") }
        let size = Int(st.st_size)
        guard size >= 8 else { throw SafeTensorsError(file: url.path, "file is \(size) bytes, shorter than the 8-byte header length") }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw SafeTensorsError(file: url.path, "cannot map: \(String(cString: strerror(errno)))")
        }
        base = p
        mappedLength = size
        do {
            let declared = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
            guard declared <= UInt64(Self.maximumHeaderLength) else {
                throw SafeTensorsError(file: url.path, "header length \(declared) exceeds the limit of \(Self.maximumHeaderLength) bytes")
            }
            let n = Int(declared)
            guard n <= size - 8 else {
                throw SafeTensorsError(file: url.path, "header length \(n) runs past the end of the file (\(size) bytes): the file is truncated or not safetensors")
            }
            dataOffset = 8 + n
            let header = Data(bytes: p + 8, count: n)
            (entries, metadata) = try Self.parseHeader(header, dataLength: size - dataOffset, file: url.path)
        } catch {
            munmap(p, size)
            throw error
        }
    }

    deinit { if let base { munmap(base, mappedLength) } }

    /// Tensor names in file order (by data offset).
    public var names: [String] { entries.values.sorted { $0.range.lowerBound < $1.range.lowerBound }.map(\.name) }

    /// The raw bytes of a tensor, valid while this file is alive.
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        guard let e = entries[name] else { throw SafeTensorsError(file: path, "no tensor named '\(name)'") }
        return UnsafeRawBufferPointer(start: base! + dataOffset + e.range.lowerBound, count: e.range.count)
    }

    /// One value of the header object: a tensor entry, or the `__metadata__` string map.
    private struct RawEntry: Decodable {
        var dtype: String
        var shape: [Int]
        var data_offsets: [Int]
    }

    private struct RawHeader: Decodable {
        var entries: [String: Result<RawEntry, Error>] = [:]
        var metadata: [String: String] = [:]
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            for key in c.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = try c.decode([String: String].self, forKey: key)
                } else {
                    entries[key.stringValue] = Result { try c.decode(RawEntry.self, forKey: key) }
                }
            }
        }
    }

    static func parseHeader(_ header: Data, dataLength: Int, file: String) throws -> ([String: SafeTensorsEntry], [String: String]) {
        let raw: RawHeader
        do { raw = try JSONDecoder().decode(RawHeader.self, from: header) } catch {
            throw SafeTensorsError(file: file, "header is not a valid safetensors JSON object: \(error)")
        }
        var entries: [String: SafeTensorsEntry] = [:]
        for (name, result) in raw.entries {
            let info: RawEntry
            do { info = try result.get() } catch {
                throw SafeTensorsError(file: file, "tensor '\(name)': entry needs dtype (string), shape (integers) and data_offsets (two integers): \(error)")
            }
            guard let dtype = SafeTensorsDType(rawValue: info.dtype) else {
                throw SafeTensorsError(file: file, "tensor '\(name)': unsupported dtype '\(info.dtype)' (expected one of \(SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let shape = info.shape, off = info.data_offsets
            guard shape.allSatisfy({ $0 >= 0 }) else { throw SafeTensorsError(file: file, "tensor '\(name)': negative dimension in shape \(shape)") }
            guard off.count == 2 else { throw SafeTensorsError(file: file, "tensor '\(name)': data_offsets has \(off.count) values, expected 2") }
            guard off[0] >= 0, off[0] <= off[1] else {
                throw SafeTensorsError(file: file, "tensor '\(name)': data_offsets [\(off[0]), \(off[1])] is not an increasing range")
            }
            guard off[1] <= dataLength else {
                throw SafeTensorsError(file: file, "tensor '\(name)': data_offsets end \(off[1]) is past the data buffer (\(dataLength) bytes): the file is truncated")
            }
            var bytes = dtype.size
            var overflow = false
            for d in shape {
                let (v, o) = bytes.multipliedReportingOverflow(by: d)
                bytes = v
                overflow = overflow || o
            }
            guard !overflow, bytes == off[1] - off[0] else {
                throw SafeTensorsError(file: file, "tensor '\(name)': shape \(shape) of \(info.dtype) needs \(overflow ? "too many" : String(bytes)) bytes but data_offsets span \(off[1] - off[0])")
            }
            entries[name] = SafeTensorsEntry(name: name, dtype: dtype, shape: shape, range: off[0]..<off[1])
        }
        // The buffer must be indexed entirely, without overlaps or holes (as the reference implementation requires).
        var end = 0
        for e in entries.values.sorted(by: { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }) {
            if e.range.lowerBound < end {
                throw SafeTensorsError(file: file, "tensor '\(e.name)': data range \(e.range.lowerBound)..<\(e.range.upperBound) overlaps the previous tensor's (ending at \(end))")
            }
            if e.range.lowerBound > end {
                throw SafeTensorsError(file: file, "tensor '\(e.name)': hole in the data buffer between \(end) and \(e.range.lowerBound)")
            }
            end = e.range.upperBound
        }
        if end != dataLength {
            throw SafeTensorsError(file: file, "data buffer is \(dataLength) bytes but the tensors cover \(end)")
        }
        return (entries, raw.metadata)
    }
}
