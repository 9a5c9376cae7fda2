// Softmax of one row (AVX2) with scale, additive bias and a visible prefix (causal mask): max, exp-sum, scale.
#include "Internal.h"
#include <math.h>
#include <string.h>

#if ECOM_X86
// Three sweeps over the row, but only the first reads memory and only the last two write (to the output row, which
// stays in L1 between them): (1) the maximum m of z = scale x + bias, z not stored; (2) e = exp(z - m) recomputed
// from x (one FMA) and stored in y, summed; (3) y *= 1 / sum. Subtracting m makes every exponent <= 0 (no overflow,
// the largest term is 1, the sum is >= 1). y may alias x: sweep 2 reads x[j] before writing y[j].
// For large outputs (stream != 0) sweep 2 writes e to a stack scratch row instead (L1) and sweep 3 writes y once,
// with streaming stores: no read-for-ownership of y's cache lines, which would otherwise cost a third of the traffic.
#define SOFTMAX_SCRATCH 4096
ECOM_INLINE __m256 logits(const float *x, const float *bias, ptrdiff_t j, __m256 scale) {
    __m256 v = _mm256_loadu_ps(x + j);
    return bias ? _mm256_fmadd_ps(v, scale, _mm256_loadu_ps(bias + j)) : _mm256_mul_ps(v, scale);
}

ECOM_INLINE __m256 logitsTail(const float *x, const float *bias, ptrdiff_t j, __m256 scale, __m256i m) {
    __m256 v = _mm256_maskload_ps(x + j, m);
    __m256 z = bias ? _mm256_fmadd_ps(v, scale, _mm256_maskload_ps(bias + j, m)) : _mm256_mul_ps(v, scale);
    return _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), z, _mm256_castsi256_ps(m));  // masked lanes: -inf
}

/// y[j ..< j + count] = e[j ..< j + count] * inv (count <= 8), masked.
ECOM_INLINE void scaleMasked(const float *e, float *y, ptrdiff_t j, ptrdiff_t count, __m256 inv) {
    __m256i m = ecom_tail_mask(count);
    _mm256_maskstore_ps(y + j, m, _mm256_mul_ps(_mm256_maskload_ps(e + j, m), inv));
}

ECOM_AVX2 void ecom_softmax_row_f32(const float *x, float *y, ptrdiff_t visible, ptrdiff_t cols, float scale,
                                    const float *bias, int stream) {
    const ptrdiff_t n = visible < 0 ? 0 : (visible > cols ? cols : visible);
    const ptrdiff_t tail = n % 8, body = n - tail;
    const __m256i tm = ecom_tail_mask(tail);
    const __m256 sv = _mm256_set1_ps(scale);
    // Sweep 1: maximum.
    __m256 m0 = _mm256_set1_ps(-INFINITY), m1 = m0;
    ptrdiff_t j = 0;
    for (; j + 16 <= body; j += 16) {
        m0 = _mm256_max_ps(m0, logits(x, bias, j, sv));
        m1 = _mm256_max_ps(m1, logits(x, bias, j + 8, sv));
    }
    for (; j < body; j += 8) m0 = _mm256_max_ps(m0, logits(x, bias, j, sv));
    if (tail) m1 = _mm256_max_ps(m1, logitsTail(x, bias, body, sv, tm));
    const float m = ecom_hmax(_mm256_max_ps(m0, m1));
    if (n == 0 || m == -INFINITY) {  // nothing visible
        memset(y, 0, (size_t)cols * sizeof(float));
        return;
    }
    // Sweep 2: e = exp(z - m) into y (or the scratch row when streaming), summed.
    float scratch[SOFTMAX_SCRATCH] __attribute__((aligned(32)));
    if (n > SOFTMAX_SCRATCH) stream = 0;
    float *e = stream ? scratch : y;
    const __m256 mv = _mm256_set1_ps(m);
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    for (j = 0; j + 16 <= body; j += 16) {
        __m256 e0 = ecom_exp8(_mm256_sub_ps(logits(x, bias, j, sv), mv));
        __m256 e1 = ecom_exp8(_mm256_sub_ps(logits(x, bias, j + 8, sv), mv));
        _mm256_storeu_ps(e + j, e0);
        _mm256_storeu_ps(e + j + 8, e1);
        s0 = _mm256_add_ps(s0, e0);
        s1 = _mm256_add_ps(s1, e1);
    }
    for (; j < body; j += 8) {
        __m256 ej = ecom_exp8(_mm256_sub_ps(logits(x, bias, j, sv), mv));
        _mm256_storeu_ps(e + j, ej);
        s0 = _mm256_add_ps(s0, ej);
    }
    if (tail) {
        __m256 ej = ecom_exp8(_mm256_sub_ps(logitsTail(x, bias, body, sv, tm), mv));  // masked lanes: exp(-inf) = 0
        _mm256_maskstore_ps(e + body, tm, ej);
        s1 = _mm256_add_ps(s1, ej);
    }
    // Sweep 3: normalise; zero the masked keys.
    const __m256 inv = _mm256_set1_ps(1.0f / ecom_hsum(_mm256_add_ps(s0, s1)));
    j = 0;
    if (stream) {  // a masked head up to a 32-byte boundary, then aligned streaming stores
        ptrdiff_t head = ecom_head_to_aligned(y, n);
        if (head) scaleMasked(e, y, 0, head, inv);
        j = head;
    }
    for (; j + 8 <= n; j += 8) ecom_store(y + j, _mm256_mul_ps(_mm256_loadu_ps(e + j), inv), stream);
    if (j < n) scaleMasked(e, y, j, n - j, inv);
    if (n < cols) memset(y + n, 0, (size_t)(cols - n) * sizeof(float));
    if (stream) _mm_sfence();
}
#endif
