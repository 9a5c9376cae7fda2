// Linear layer with 16-bit (IEEE half or bfloat16) weights, y = x W^T + b: rows widened on the fly, FMA accumulation.
#include "Internal.h"
#include <string.h>

#if ECOM_X86
// Decoding one token is a matrix-vector product whose cost is reading W: keeping W in 16 bits halves that traffic.
// W is [n, k] (PyTorch's Linear layout, one output feature per row). Four rows of W are processed together so each
// load of x feeds four FMA chains; for m > 1 input rows the same four W rows (4 k halfs, L1/L2-resident) are reused
// for every input row. Each dot product sums in a fixed order (8 lanes, then the lane fold), so results do not
// depend on threads (which split the n output features).

/// 8 weights widened to float; `format` is a compile-time constant after inlining.
ECOM_INLINE __m256 widen(const uint16_t *p, int format) {
    __m128i h = _mm_loadu_si128((const __m128i *)p);
    return format == 0 ? _mm256_cvtph_ps(h) : _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

ECOM_INLINE void linear(const float *x, ptrdiff_t m, ptrdiff_t ldx, const uint16_t *w, ptrdiff_t n, ptrdiff_t k,
                        ptrdiff_t ldw, const int format, const float *bias, float *y, ptrdiff_t ldy) {
    const ptrdiff_t tail = k % 8, body = k - tail;
    const __m256i tm = ecom_tail_mask(tail);
    ptrdiff_t r = 0;
    for (; r + 4 <= n; r += 4) {
        const uint16_t *w0 = w + r * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
        uint16_t t[4][8] = {{0}};  // zero-padded tails of the four rows
        if (tail) {
            memcpy(t[0], w0 + body, (size_t)tail * 2); memcpy(t[1], w1 + body, (size_t)tail * 2);
            memcpy(t[2], w2 + body, (size_t)tail * 2); memcpy(t[3], w3 + body, (size_t)tail * 2);
        }
        for (ptrdiff_t i = 0; i < m; i++) {
            const float *xi = x + i * ldx;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (ptrdiff_t j = 0; j < body; j += 8) {
                __m256 xv = _mm256_loadu_ps(xi + j);
                a0 = _mm256_fmadd_ps(widen(w0 + j, format), xv, a0);
                a1 = _mm256_fmadd_ps(widen(w1 + j, format), xv, a1);
                a2 = _mm256_fmadd_ps(widen(w2 + j, format), xv, a2);
                a3 = _mm256_fmadd_ps(widen(w3 + j, format), xv, a3);
            }
            if (tail) {
                __m256 xv = _mm256_maskload_ps(xi + body, tm);
                a0 = _mm256_fmadd_ps(widen(t[0], format), xv, a0);
                a1 = _mm256_fmadd_ps(widen(t[1], format), xv, a1);
                a2 = _mm256_fmadd_ps(widen(t[2], format), xv, a2);
                a3 = _mm256_fmadd_ps(widen(t[3], format), xv, a3);
            }
            float *yi = y + i * ldy + r;
            yi[0] = ecom_hsum(a0) + (bias ? bias[r] : 0);
            yi[1] = ecom_hsum(a1) + (bias ? bias[r + 1] : 0);
            yi[2] = ecom_hsum(a2) + (bias ? bias[r + 2] : 0);
            yi[3] = ecom_hsum(a3) + (bias ? bias[r + 3] : 0);
        }
    }
    for (; r < n; r++) {
        const uint16_t *w0 = w + r * ldw;
        uint16_t t[8] = {0};
        if (tail) memcpy(t, w0 + body, (size_t)tail * 2);
        for (ptrdiff_t i = 0; i < m; i++) {
            const float *xi = x + i * ldx;
            __m256 a0 = _mm256_setzero_ps();
            for (ptrdiff_t j = 0; j < body; j += 8) a0 = _mm256_fmadd_ps(widen(w0 + j, format), _mm256_loadu_ps(xi + j), a0);
            if (tail) a0 = _mm256_fmadd_ps(widen(t, format), _mm256_maskload_ps(xi + body, tm), a0);
            y[i * ldy + r] = ecom_hsum(a0) + (bias ? bias[r] : 0);
        }
    }
}

ECOM_AVX2 void ecom_half_linear_f32(const float *x, ptrdiff_t m, ptrdiff_t ldx, const uint16_t *w, ptrdiff_t n,
                                    ptrdiff_t k, ptrdiff_t ldw, int format, const float *bias, float *y, ptrdiff_t ldy) {
    if (format == 0) linear(x, m, ldx, w, n, k, ldw, 0, bias, y, ldy);
    else linear(x, m, ldx, w, n, k, ldw, 1, bias, y, ldy);
}
#endif
