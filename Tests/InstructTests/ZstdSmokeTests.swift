// Smoke test of the zstd system library: a compress/decompress round trip through the one-shot API.
import CZstd
import EcomTestSupport
import Testing

@Suite struct ZstdSmokeTests {
    @Test func roundTrip() throws {
        var rng = SplitMix64(seed: 7)
        // Compressible input: a repeated phrase with random bytes sprinkled in.
        var input = [UInt8]()
        for i in 0..<20_000 { input.append(i % 97 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : Array("ecom shard ".utf8)[i % 11]) }
        var compressed = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let csize = ZSTD_compress(&compressed, compressed.count, input, input.count, 3)
        #expect(ZSTD_isError(csize) == 0)
        #expect(csize < input.count / 4, "expected real compression, got \(csize) bytes from \(input.count)")
        let frameSize = ZSTD_getFrameContentSize(compressed, csize)
        #expect(frameSize == UInt64(input.count))
        var output = [UInt8](repeating: 0, count: input.count)
        let dsize = ZSTD_decompress(&output, output.count, compressed, csize)
        #expect(ZSTD_isError(dsize) == 0)
        #expect(dsize == input.count)
        let identical = output == input
        #expect(identical, "decompressed bytes differ from the input")
    }

    @Test func corruptFrameIsAnError() {
        let garbage: [UInt8] = Array("not a zstd frame at all".utf8)
        var output = [UInt8](repeating: 0, count: 64)
        let r = ZSTD_decompress(&output, output.count, garbage, garbage.count)
        #expect(ZSTD_isError(r) != 0)
    }
}
