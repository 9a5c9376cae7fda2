// Float16/bfloat16 conversion against numpy/torch bit patterns and Swift's own Float16 on every half value.
import EcomTensor
import EcomTestSupport
import Testing

@Suite struct HalfPrecisionTests {
    let half = TorchFixture.section("half")

    @Test func float32ToHalfMatchesNumpyAndTorchBits() {
        let values = half.fromBits("float_bits")
        let f16 = half.ints("f16_bits"), bf16 = half.ints("bf16_bits")
        for (i, v) in values.enumerated() {
            let ours16 = HalfPrecision.float16Bits(v), oursBF = HalfPrecision.bfloat16Bits(v)
            #expect(Int(ours16) == f16[i], "f16 of \(v) (0x\(String(v.bitPattern, radix: 16))): ours 0x\(String(ours16, radix: 16)), numpy 0x\(String(f16[i], radix: 16))")
            if v.isNaN {
                // torch's vectorised cast writes 0xFFFF for NaN; any NaN pattern keeps the meaning, ours is quiet 0x7FC0.
                #expect(HalfPrecision.float(bfloat16: oursBF).isNaN && HalfPrecision.float(bfloat16: UInt16(bf16[i])).isNaN)
            } else {
                #expect(Int(oursBF) == bf16[i], "bf16 of \(v): ours 0x\(String(oursBF, radix: 16)), torch 0x\(String(bf16[i], radix: 16))")
            }
        }
    }

    @Test func halfToFloat32MatchesNumpyAndTorch() {
        let sample = half.ints("f16_sample").map { UInt16($0) }
        let f16 = half.fromBits("f16_sample_float_bits"), bf16 = half.fromBits("bf16_sample_float_bits")
        for (i, h) in sample.enumerated() {
            let a = HalfPrecision.float(float16: h), b = HalfPrecision.float(bfloat16: h)
            #expect(a.bitPattern == f16[i].bitPattern || (a.isNaN && f16[i].isNaN), "f16 0x\(String(h, radix: 16)) -> \(a), numpy \(f16[i])")
            #expect(b.bitPattern == bf16[i].bitPattern || (b.isNaN && bf16[i].isNaN), "bf16 0x\(String(h, radix: 16)) -> \(b), torch \(bf16[i])")
        }
    }

    #if arch(x86_64) || arch(arm64)
    @Test func everyHalfRoundTripsAndMatchesSwiftFloat16() {
        for bits in 0...UInt16.max {
            let f = HalfPrecision.float(float16: bits)
            let native = Float(Float16(bitPattern: bits))
            #expect(f.bitPattern == native.bitPattern || (f.isNaN && native.isNaN), "half 0x\(String(bits, radix: 16))")
            if !f.isNaN { #expect(HalfPrecision.float16Bits(f) == bits, "round trip of half 0x\(String(bits, radix: 16))") }
            let g = HalfPrecision.float(bfloat16: bits)
            if !g.isNaN { #expect(HalfPrecision.bfloat16Bits(g) == bits, "round trip of bf16 0x\(String(bits, radix: 16))") }
            else { #expect(HalfPrecision.bfloat16Bits(g) & 0x7FC0 == 0x7FC0, "bf16 NaN stays NaN") }
        }
    }

    @Test func randomFloatsRoundLikeSwiftFloat16() {
        let seed: UInt64 = 16
        var rng = SplitMix64(seed: seed)
        for _ in 0..<20_000 {
            // Random bit patterns over exponents around half's range (subnormal to overflow).
            let exp = UInt32(96 + rng.next() % 48), mant = UInt32(truncatingIfNeeded: rng.next()) & 0x7F_FFFF
            let v = Float(bitPattern: (UInt32(rng.next() & 1) << 31) | (exp << 23) | mant)
            #expect(HalfPrecision.float16Bits(v) == Float16(v).bitPattern, "seed \(seed): \(v)")
        }
    }
    #endif

    @Test func tensorConversionsKeepShape() {
        let t = Tensor(shape: [2, 2], storage: [1, -2, .infinity, 0.5])
        #expect(Tensor(shape: [2, 2], float16: t.float16Bits()) == t)
        #expect(Tensor(shape: [2, 2], bfloat16: t.bfloat16Bits()) == t)
        #expect(Tensor(shape: [1], float16: Tensor(shape: [1], storage: [.nan]).float16Bits())[0].isNaN)
    }
}
