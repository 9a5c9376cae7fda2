// Linear layers with GGUF block-quantized weights (Q4_0, Q4_1, Q8_0), y = x W^T, AVX2: 8-bit activations with integer
// dot products (the idea of llama.cpp's ggml_vec_dot_q4_1_q8_1 / q8_0_q8_0, written afresh), and exact in-register dequantization with FMA.
#include "Internal.h"
#include <string.h>

#if ECOM_X86
// Formats (see Sources/Tensor/BlockQuantization.swift for the block layouts): 0 = Q4_0 (18 bytes: d, qs[16]),
// 1 = Q4_1 (20 bytes: d, m, qs[16]), 2 = Q8_0 (34 bytes: d, qs[32]). W is [n, k] in GGUF's layout: row r is k / 32
// consecutive blocks. Rows are independent, so the callers split the n output features over threads freely and the
// result does not depend on the split.
//
// The integer path. An activation block x[0..<32] is stored as qx[j] = round(x[j] / dx) with dx = max|x| / 127
// (|qx| <= 127), plus sx = dx * sum_j qx[j]. Against a weight block with values (q[j] + c) * dw (Q4_0: c = -8, m = 0)
// or q[j] * dw + mw (Q4_1), the block's contribution is
//     sum_j (qx[j] dx) (q[j] dw + c dw + mw) = (dw dx) * sum_j q[j] qx[j]  +  (c dw + mw) * sx,
// where the first sum is exact in int32 (|q| <= 15 or 128, |qx| <= 127, 32 terms). The only approximation is x ~ qx dx
// (relative error <= 1/254 of the block's largest |x|); everything after that is exact integer arithmetic followed by
// float scaling. AVX2 has no signed x signed byte product: _mm256_maddubs_epi16 multiplies unsigned by signed bytes
// and adds adjacent pairs to int16 (saturating, but |pair| <= 2 * 128 * 127 = 32512 never saturates), and
// _mm256_madd_epi16 against ones adds pairs again to int32. Q4 nibbles are unsigned already (c is folded into the
// offset term above); for Q8_0 the sign of w is moved onto qx (|w| * sign(w) qx = w qx, with |-128| read as unsigned 128).
//
// The float path dequantizes each block into four vectors of 8 floats exactly as the scalar reference does (q * d,
// then + m, no FMA) and accumulates x * w with FMA: error only from Float summation.

#include "QuantCommon.h"

ECOM_AVX2 void ecom_quantize_q8_rows(const float *x, ptrdiff_t m, ptrdiff_t ldx, ptrdiff_t k, int8_t *q, float *d,
                                     float *s) {
    const ptrdiff_t nb = k / QK;
    const __m256 signBit = _mm256_set1_ps(-0.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (ptrdiff_t i = 0; i < m; i++) {
        for (ptrdiff_t b = 0; b < nb; b++) {
            const float *p = x + i * ldx + b * QK;
            __m256 v0 = _mm256_loadu_ps(p), v1 = _mm256_loadu_ps(p + 8), v2 = _mm256_loadu_ps(p + 16),
                   v3 = _mm256_loadu_ps(p + 24);
            __m256 a = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(signBit, v0), _mm256_andnot_ps(signBit, v1)),
                                     _mm256_max_ps(_mm256_andnot_ps(signBit, v2), _mm256_andnot_ps(signBit, v3)));
            const float amax = ecom_hmax(a);
            const float dx = amax / 127.0f, inv = amax > 0 ? 127.0f / amax : 0.0f;
            const __m256 vi = _mm256_set1_ps(inv);
            // Round to nearest, ties to even (the default MXCSR mode); |x * inv| <= 127 (plus a rounding hair).
            __m256i q0 = _mm256_cvtps_epi32(_mm256_mul_ps(v0, vi)), q1 = _mm256_cvtps_epi32(_mm256_mul_ps(v1, vi)),
                    q2 = _mm256_cvtps_epi32(_mm256_mul_ps(v2, vi)), q3 = _mm256_cvtps_epi32(_mm256_mul_ps(v3, vi));
            __m256i sum = _mm256_add_epi32(_mm256_add_epi32(q0, q1), _mm256_add_epi32(q2, q3));
            __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
            // The packs interleave the four vectors by 128-bit lanes in 4-byte groups (a0-3 b0-3 c0-3 d0-3 |
            // a4-7 b4-7 c4-7 d4-7); the permutation restores the order a0-7 b0-7 c0-7 d0-7.
            __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(q0, q1), _mm256_packs_epi32(q2, q3));
            _mm256_storeu_si256((__m256i *)(q + i * k + b * QK), _mm256_permutevar8x32_epi32(packed, order));
            d[i * nb + b] = dx;
            s[i * nb + b] = dx * (float)_mm_cvtsi128_si32(s4);
        }
    }
}

#define Q8_INLINE ECOM_INLINE
#define Q8_DOT(u, s) dot_u8s8(u, s)
#define Q8_NAME(x) x##_avx2
#define Q8_EXPORT ECOM_AVX2
#define Q8_ENTRY ecom_quant_linear_q8
#include "QuantQ8.h"

/// The 32 values of one block as four vectors of 8 floats, bit for bit the scalar reference's (q * d, then + m).
ECOM_INLINE void dequant_block(const uint8_t *blk, const int format, __m256 v[4]) {
    const __m256 d = _mm256_set1_ps(half_at(blk));
    __m256i q[4];
    if (format == 2) {
        for (int h = 0; h < 4; h++) q[h] = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(blk + 2 + 8 * h)));
    } else {
        __m128i b = _mm_loadu_si128((const __m128i *)(blk + (format == 1 ? 4 : 2)));
        const __m128i low = _mm_set1_epi8(0x0F);
        __m128i lo = _mm_and_si128(b, low), hi = _mm_and_si128(_mm_srli_epi16(b, 4), low);
        q[0] = _mm256_cvtepu8_epi32(lo);
        q[1] = _mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8));
        q[2] = _mm256_cvtepu8_epi32(hi);
        q[3] = _mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8));
        if (format == 0) for (int h = 0; h < 4; h++) q[h] = _mm256_sub_epi32(q[h], _mm256_set1_epi32(8));
    }
    for (int h = 0; h < 4; h++) v[h] = _mm256_mul_ps(_mm256_cvtepi32_ps(q[h]), d);
    if (format == 1) {
        const __m256 mv = _mm256_set1_ps(half_at(blk + 2));
        for (int h = 0; h < 4; h++) v[h] = _mm256_add_ps(v[h], mv);
    }
}

/// One weight row against M (1...4) float activation rows. A accumulators per row (4 for M <= 2, else 2) break the
/// FMA latency chain of a block's four products.
ECOM_INLINE void f32_row(const uint8_t *wr, ptrdiff_t nb, const int format, const float *x, ptrdiff_t ldx, const int M,
                         float *y, ptrdiff_t ldy) {
    const ptrdiff_t bb = block_bytes(format);
    const int A = M <= 2 ? 4 : 2;
    __m256 acc[4][4];
    for (int i = 0; i < 4; i++) for (int a = 0; a < 4; a++) acc[i][a] = _mm256_setzero_ps();
    for (ptrdiff_t b = 0; b < nb; b++) {
        __m256 v[4];
        dequant_block(wr + b * bb, format, v);
        for (int i = 0; i < M; i++) {
            const float *xi = x + i * ldx + b * QK;
            for (int h = 0; h < 4; h++) acc[i][h % A] = _mm256_fmadd_ps(v[h], _mm256_loadu_ps(xi + 8 * h), acc[i][h % A]);
        }
    }
    for (int i = 0; i < M; i++) {
        __m256 s = acc[i][0];
        for (int a = 1; a < A; a++) s = _mm256_add_ps(s, acc[i][a]);
        y[i * ldy] = ecom_hsum(s);
    }
}

ECOM_INLINE void f32_linear(const float *x, ptrdiff_t m, ptrdiff_t ldx, const uint8_t *w, ptrdiff_t n, ptrdiff_t k,
                            const int format, float *y, ptrdiff_t ldy) {
    const ptrdiff_t nb = k / QK, rowBytes = nb * block_bytes(format);
    for (ptrdiff_t r = 0; r < n; r++) {
        const uint8_t *wr = w + r * rowBytes;
        ptrdiff_t i = 0;
        for (; i + 4 <= m; i += 4) f32_row(wr, nb, format, x + i * ldx, ldx, 4, y + i * ldy + r, ldy);
        switch (m - i) {
        case 3: f32_row(wr, nb, format, x + i * ldx, ldx, 3, y + i * ldy + r, ldy); break;
        case 2: f32_row(wr, nb, format, x + i * ldx, ldx, 2, y + i * ldy + r, ldy); break;
        case 1: f32_row(wr, nb, format, x + i * ldx, ldx, 1, y + i * ldy + r, ldy); break;
        default: break;
        }
    }
}

ECOM_AVX2 void ecom_quant_linear_f32(const float *x, ptrdiff_t m, ptrdiff_t ldx, const void *w, ptrdiff_t n,
                                     ptrdiff_t k, int format, float *y, ptrdiff_t ldy) {
    const uint8_t *wb = (const uint8_t *)w;
    switch (format) {
    case 0: f32_linear(x, m, ldx, wb, n, k, 0, y, ldy); break;
    case 1: f32_linear(x, m, ldx, wb, n, k, 1, y, ldy); break;
    default: f32_linear(x, m, ldx, wb, n, k, 2, y, ldy); break;
    }
}

ECOM_INLINE void dequantize(const uint8_t *src, ptrdiff_t blocks, const int format, float *dst) {
    const ptrdiff_t bb = block_bytes(format);
    for (ptrdiff_t b = 0; b < blocks; b++) {
        __m256 v[4];
        dequant_block(src + b * bb, format, v);
        for (int h = 0; h < 4; h++) _mm256_storeu_ps(dst + b * QK + 8 * h, v[h]);
    }
}

ECOM_AVX2 void ecom_dequantize_blocks_f32(int format, const void *src, ptrdiff_t blocks, float *dst) {
    const uint8_t *s = (const uint8_t *)src;
    switch (format) {
    case 0: dequantize(s, blocks, 0, dst); break;
    case 1: dequantize(s, blocks, 1, dst); break;
    default: dequantize(s, blocks, 2, dst); break;
    }
}
#endif
