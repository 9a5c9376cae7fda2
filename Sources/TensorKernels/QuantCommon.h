// Block layouts shared by the quantized kernels (QuantLinear.c, QuantLinearVNNI.c): block sizes, the f16 scale, Q4
// nibble unpacking, and the AVX2 four-product sum. x86 only (included under ECOM_X86).
#ifndef ECOM_QUANT_COMMON_H
#define ECOM_QUANT_COMMON_H
#include "Internal.h"
#include <string.h>

enum { QK = 32 };

ECOM_INLINE ptrdiff_t block_bytes(int format) { return format == 0 ? 18 : format == 1 ? 20 : 34; }

/// The f16 at p (unaligned) widened.
ECOM_INLINE float half_at(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/// A Q4 block's 16 bytes as 32 unsigned nibbles in value order: low nibbles (values 0..<16) in the low 128 bits,
/// high nibbles (values 16..<32) in the high 128 bits.
ECOM_INLINE __m256i unpack_q4(const uint8_t *qs) {
    // The 16 bytes in both halves (a load), the high half shifted right by 4 (per 64-bit element), then the low nibbles.
    __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    v = _mm256_srlv_epi64(v, _mm256_setr_epi64x(0, 0, 4, 4));
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

/// *p in all 8 lanes, read by vbroadcastss from memory: a load, where the compiler would otherwise keep a vector of
/// scales in a register and extract each lane with two shuffles (measured 1.3x slower in the Q4 kernel, Zen 5).
ECOM_INLINE __m256 broadcast_from_memory(const float *p) {
    __m256 r;
    __asm__("vbroadcastss %1, %0" : "=x"(r) : "m"(*p));
    return r;
}

/// Eight int32 sums of four adjacent products u[j] * s[j] (u unsigned bytes, s signed bytes).
ECOM_INLINE __m256i dot_u8s8(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

#endif
