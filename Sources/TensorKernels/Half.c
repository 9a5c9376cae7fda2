// Float32 <-> IEEE half (F16C) and bfloat16 (AVX2 integer ops) buffer conversion, round to nearest even.
#include "Internal.h"
#include <string.h>

#if ECOM_X86
/// bfloat16 -> float: the 16 bits become the top half of the float (exact).
ECOM_INLINE __m256 bf16x8(__m128i h) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)); }

/// float -> bfloat16 for 8 lanes (low halves of 32-bit lanes): (bits + 0x7FFF + lsb) >> 16, which carries into the
/// kept part exactly when the dropped half exceeds half an ulp or equals it with an odd kept part; NaN keeps its top
/// bits with the quiet bit (0x0040) set.
ECOM_INLINE __m256i bf16Round(__m256 v) {
    __m256i b = _mm256_castps_si256(v);
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(1));
    __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(b, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7FFF))), 16);
    __m256i nan = _mm256_or_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(0x40));
    __m256i isNaN = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    return _mm256_blendv_epi8(rounded, nan, isNaN);
}

/// Packs the low 16 bits of 8 lanes (each < 2^16) into 8 consecutive uint16.
ECOM_INLINE __m128i pack16(__m256i v) {
    __m256i p = _mm256_packus_epi32(v, v);  // per 128-bit lane: [a0..a3 a0..a3 | a4..a7 a4..a7]
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(p, 0x08));  // qwords 0 and 2
}

/// Widens n 16-bit values (format 0: IEEE half through F16C, 1: bfloat16); the format is constant after inlining.
ECOM_INLINE void widen(const uint16_t *src, float *dst, ptrdiff_t n, const int format) {
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(src + i));
        _mm256_storeu_ps(dst + i, format == 0 ? _mm256_cvtph_ps(h) : bf16x8(h));
    }
    if (i < n) {
        uint16_t t[8] = {0};
        memcpy(t, src + i, (size_t)(n - i) * 2);
        __m128i h = _mm_loadu_si128((const __m128i *)t);
        _mm256_maskstore_ps(dst + i, ecom_tail_mask(n - i), format == 0 ? _mm256_cvtph_ps(h) : bf16x8(h));
    }
}

ECOM_AVX2 void ecom_f16_to_f32(const uint16_t *src, float *dst, ptrdiff_t n) { widen(src, dst, n, 0); }

ECOM_AVX2 void ecom_bf16_to_f32(const uint16_t *src, float *dst, ptrdiff_t n) { widen(src, dst, n, 1); }

ECOM_AVX2 void ecom_f32_to_f16(const float *src, uint16_t *dst, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    if (i < n) {
        uint16_t t[8];
        _mm_storeu_si128((__m128i *)t, _mm256_cvtps_ph(_mm256_maskload_ps(src + i, ecom_tail_mask(n - i)),
                                                        _MM_FROUND_TO_NEAREST_INT));
        memcpy(dst + i, t, (size_t)(n - i) * 2);
    }
}

ECOM_AVX2 void ecom_f32_to_bf16(const float *src, uint16_t *dst, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) _mm_storeu_si128((__m128i *)(dst + i), pack16(bf16Round(_mm256_loadu_ps(src + i))));
    if (i < n) {
        uint16_t t[8];
        _mm_storeu_si128((__m128i *)t, pack16(bf16Round(_mm256_maskload_ps(src + i, ecom_tail_mask(n - i)))));
        memcpy(dst + i, t, (size_t)(n - i) * 2);
    }
}
#endif
