// Layer norm forward over rows (AVX2): one pass over memory, statistics by the exact two-pass formula in L1.
#include "Internal.h"
#include <math.h>

#if ECOM_X86
// Statistics. The one-pass sum/sum-of-squares formula var = E[x^2] - E[x]^2 cancels catastrophically in float when
// |mean| >> std (relative error ~ eps (1 + mean^2 / var), and BLOOM's hidden states have large-mean outlier
// channels); Welford's update needs a division per element. Instead: pass 1 sums x (this pass streams the row from
// memory and leaves it in L1: a row of C floats is 4 KiB at BLOOM-560m's C = 1024, 8 KiB at 2048), pass 2 sums
// (x - mean)^2 from L1 (the textbook two-pass formula: no cancellation, error ~ C/32 eps relative with 32 partial
// sums), pass 3 normalises from L1 and writes. Memory traffic is one read and one write per element, as for a fused
// one-pass kernel; passes 2 and 3 cost only L1 loads (2 per cycle). Sums use 4 vector accumulators (32 partial sums,
// a fixed order) and no double.
ECOM_INLINE __m256 sum4(__m256 a, __m256 b, __m256 c, __m256 d) {
    return _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d));
}

/// y[j ..< j + count] (count <= 8) of pass 3, with masked loads and stores.
ECOM_INLINE void normaliseMasked(const float *xr, const float *gamma, const float *beta, float *yr, ptrdiff_t j,
                                 ptrdiff_t count, __m256 muv, __m256 rsv) {
    __m256i m = ecom_tail_mask(count);
    __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_maskload_ps(xr + j, m), muv), rsv);
    _mm256_maskstore_ps(yr + j, m, _mm256_fmadd_ps(xh, _mm256_maskload_ps(gamma + j, m), _mm256_maskload_ps(beta + j, m)));
}

ECOM_AVX2 void ecom_layernorm_forward_f32(const float *x, const float *gamma, const float *beta, float *y, float *mean,
                                          float *rstd, ptrdiff_t rows, ptrdiff_t cols, float eps, int stream) {
    const ptrdiff_t tail = cols % 8, body = cols - tail;
    const __m256i tm = ecom_tail_mask(tail);
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        // Pass 1: sum.
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        ptrdiff_t j = 0;
        for (; j + 32 <= body; j += 32) {
            a0 = _mm256_add_ps(a0, _mm256_loadu_ps(xr + j));
            a1 = _mm256_add_ps(a1, _mm256_loadu_ps(xr + j + 8));
            a2 = _mm256_add_ps(a2, _mm256_loadu_ps(xr + j + 16));
            a3 = _mm256_add_ps(a3, _mm256_loadu_ps(xr + j + 24));
        }
        for (; j < body; j += 8) a0 = _mm256_add_ps(a0, _mm256_loadu_ps(xr + j));
        if (tail) a1 = _mm256_add_ps(a1, _mm256_maskload_ps(xr + body, tm));
        const float mu = ecom_hsum(sum4(a0, a1, a2, a3)) / (float)cols;
        const __m256 muv = _mm256_set1_ps(mu);
        // Pass 2: sum of squared deviations (masked lanes of the tail contribute 0, not mu^2).
        a0 = _mm256_setzero_ps(); a1 = a0; a2 = a0; a3 = a0;
        j = 0;
        for (; j + 32 <= body; j += 32) {
            __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(xr + j), muv), d1 = _mm256_sub_ps(_mm256_loadu_ps(xr + j + 8), muv);
            __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(xr + j + 16), muv), d3 = _mm256_sub_ps(_mm256_loadu_ps(xr + j + 24), muv);
            a0 = _mm256_fmadd_ps(d0, d0, a0);
            a1 = _mm256_fmadd_ps(d1, d1, a1);
            a2 = _mm256_fmadd_ps(d2, d2, a2);
            a3 = _mm256_fmadd_ps(d3, d3, a3);
        }
        for (; j < body; j += 8) {
            __m256 d = _mm256_sub_ps(_mm256_loadu_ps(xr + j), muv);
            a0 = _mm256_fmadd_ps(d, d, a0);
        }
        if (tail) {
            __m256 d = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(xr + body, tm), muv), _mm256_castsi256_ps(tm));
            a1 = _mm256_fmadd_ps(d, d, a1);
        }
        const float var = ecom_hsum(sum4(a0, a1, a2, a3)) / (float)cols;
        const float rs = 1.0f / sqrtf(var + eps);
        const __m256 rsv = _mm256_set1_ps(rs);
        // Pass 3: y = (x - mu) rs gamma + beta. Streamed past the caches for large outputs: a masked head up to a
        // 32-byte boundary of y, then aligned streaming stores.
        j = 0;
        if (stream) {
            ptrdiff_t head = ecom_head_to_aligned(yr, cols);
            if (head) normaliseMasked(xr, gamma, beta, yr, 0, head, muv, rsv);
            j = head;
        }
        for (; j + 8 <= cols; j += 8) {
            __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + j), muv), rsv);
            ecom_store(yr + j, _mm256_fmadd_ps(xh, _mm256_loadu_ps(gamma + j), _mm256_loadu_ps(beta + j)), stream);
        }
        if (j < cols) normaliseMasked(xr, gamma, beta, yr, j, cols - j, muv, rsv);
        if (mean) mean[r] = mu;
        if (rstd) rstd[r] = rs;
    }
    if (stream) _mm_sfence();
}
#endif
