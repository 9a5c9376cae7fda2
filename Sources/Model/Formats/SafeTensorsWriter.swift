// Writing safetensors files atomically (temporary file, then rename), in the layout of the reference
// implementation: header padded with spaces to 8 bytes, tensors ordered by alignment (larger dtypes first), then name.
import Foundation

/// One tensor to write: its name, dtype, shape and little-endian bytes.
public struct SafeTensorsTensor: Sendable {
    public var name: String
    public var dtype: SafeTensorsDType
    public var shape: [Int]
    public var data: Data
    public init(name: String, dtype: SafeTensorsDType, shape: [Int], data: Data) {
        self.name = name; self.dtype = dtype; self.shape = shape; self.data = data
    }
    /// A Float32 tensor.
    public init(name: String, shape: [Int], floats: [Float]) {
        self.init(name: name, dtype: .f32, shape: shape, data: floats.withUnsafeBytes { Data($0) })
    }
}

public enum SafeTensorsWriter {
    /// Writes `tensors` (and optional `__metadata__`) to `url` atomically. Throws when a tensor's byte count does not
    /// match its shape and dtype or a name repeats.
    public static func write(_ tensors: [SafeTensorsTensor], metadata: [String: String]? = nil, to url: URL) throws {
        let ordered = tensors.sorted { ($0.dtype.size, $1.name) > ($1.dtype.size, $0.name) }
        var seen = Set<String>()
        var header: [String: Any] = [:]
        var offset = 0
        for t in ordered {
            guard seen.insert(t.name).inserted else { throw SafeTensorsError(file: url.path, "tensor '\(t.name)' given twice") }
            let bytes = t.shape.reduce(t.dtype.size, *)
            guard bytes == t.data.count else {
                throw SafeTensorsError(file: url.path, "tensor '\(t.name)': shape \(t.shape) of \(t.dtype.rawValue) needs \(bytes) bytes, got \(t.data.count)")
            }
            header[t.name] = ["dtype": t.dtype.rawValue, "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        if let metadata { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for t in ordered { out.append(t.data) }
        try AtomicFile.write(out, to: url)
    }
}

/// Atomic file replacement: write a temporary file beside the target, then rename it over the target.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try data.write(to: tmp)
            if rename(tmp.path, url.path) != 0 {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path, NSLocalizedDescriptionKey: "rename failed: \(String(cString: strerror(errno)))"])
            }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
    }
}
