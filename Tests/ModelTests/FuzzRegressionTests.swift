// Inputs the fuzz targets (Tests/Fuzz, scripts/fuzz.sh) found to crash or exhaust memory, minimised and kept in
// Tests/Fixtures/fuzz/<target>: each must now be a clear error naming the file, never a trap. Docs/RELIABILITY.md
// lists them.
import EcomLoader
import EcomModel
import EcomTestSupport
import Foundation
import Testing

@Suite struct FuzzRegressionTests {
    static func inputs(_ target: String) throws -> [URL] {
        let dir = TestPaths.fixture("fuzz/\(target)")
        return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil).sorted { $0.path < $1.path }
    }

    /// A header length of 2^64 - 1 trapped converting to Int; it is now over the 100 MB limit.
    @Test func safetensorsHeaderLengthPastInt() throws {
        let url = TestPaths.fixture("fuzz/safetensors/header-length-2e64.safetensors")
        #expect {
            _ = try SafeTensorsFile(contentsOf: url)
        } throws: { e in
            guard let e = e as? SafeTensorsError else { return false }
            return e.file == url.path && e.message.contains("header length 18446744073709551615 exceeds")
        }
    }

    @Test func everySafetensorsInputIsAnError() throws {
        for url in try Self.inputs("safetensors") {
            #expect(throws: SafeTensorsError.self, "\(url.lastPathComponent)") { _ = try SafeTensorsFile(contentsOf: url) }
        }
    }

    /// A block count of 1,090,519,041 spun for seconds building 9 tensor names a layer (and gigabytes of them) before
    /// anything compared it with the tensors the file holds.
    @Test func ggufBlockCountBeyondTheTensors() throws {
        let url = TestPaths.fixture("fuzz/gguf/block-count-huge.gguf")
        #expect {
            _ = try ModelBundle.load(url)
        } throws: { e in
            "\(e)".contains(url.path) && "\(e)".contains("llama.block_count") && "\(e)".contains("tensors in all")
        }
    }

    @Test func everyGGUFInputIsAnError() throws {
        for url in try Self.inputs("gguf") {
            #expect(throws: (any Error).self, "\(url.lastPathComponent)") { _ = try ModelBundle.load(url) }
        }
    }
}
