// GELU (BLOOM's tanh approximation) forward and backward with the vector exp: tanh through e^x.
#include "Internal.h"

#if ECOM_X86
// 0.5 (1 + tanh(u)) = 1 / (1 + e^(-2u)) (multiply tanh(u) = (1 - e^-2u) / (1 + e^-2u) out), so
// gelu(x) = x / (1 + e^(-2u)) with u = c0 x (1 + c1 x^2): one exp and one division per element, and no cancellation
// in 1 + tanh(u) for negative u (the relative error of the result is the exp's plus a few roundings of u).
// The derivative, with s = 1 / (1 + e^(-2u)): d/dx [x s] = s + x s (1 - s) 2 u', u' = c0 + 3 c0 c1 x^2.
#define GELU_C0 0.79788456f
#define GELU_C1 0.044715f
#define GELU_C2 0.1070322243f  /* 3 * C0 * C1 */

/// s = sigmoid(2u) for 8 lanes.
ECOM_INLINE __m256 gelu_sigmoid(__m256 x) {
    __m256 x2 = _mm256_mul_ps(x, x);
    // -2u = x * (-2 c0 - 2 c0 c1 x^2)
    __m256 a = _mm256_mul_ps(x, _mm256_fmadd_ps(x2, _mm256_set1_ps(-2 * GELU_C0 * GELU_C1), _mm256_set1_ps(-2 * GELU_C0)));
    return _mm256_div_ps(_mm256_set1_ps(1), _mm256_add_ps(_mm256_set1_ps(1), ecom_exp8(a)));
}

ECOM_INLINE __m256 gelu_grad(__m256 x) {
    __m256 s = gelu_sigmoid(x);
    __m256 du = _mm256_fmadd_ps(_mm256_mul_ps(x, x), _mm256_set1_ps(GELU_C2), _mm256_set1_ps(GELU_C0));
    __m256 t = _mm256_mul_ps(_mm256_mul_ps(_mm256_add_ps(x, x), s), _mm256_sub_ps(_mm256_set1_ps(1), s));
    return _mm256_fmadd_ps(t, du, s);
}

ECOM_AVX2 void ecom_gelu_forward_f32(const float *x, float *y, ptrdiff_t n, int stream) {
    ptrdiff_t i = 0;
    if (stream) {  // a masked head up to a 32-byte boundary, then aligned streaming stores
        ptrdiff_t head = ecom_head_to_aligned(y, n);
        if (head) {
            __m256i m = ecom_tail_mask(head);
            __m256 v = _mm256_maskload_ps(x, m);
            _mm256_maskstore_ps(y, m, _mm256_mul_ps(v, gelu_sigmoid(v)));
            i = head;
        }
    }
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        ecom_store(y + i, _mm256_mul_ps(v, gelu_sigmoid(v)), stream);
    }
    if (i < n) {
        __m256i m = ecom_tail_mask(n - i);
        __m256 v = _mm256_maskload_ps(x + i, m);
        _mm256_maskstore_ps(y + i, m, _mm256_mul_ps(v, gelu_sigmoid(v)));
    }
    if (stream) _mm_sfence();
}

ECOM_AVX2 void ecom_gelu_backward_f32(const float *dy, const float *x, float *dx, ptrdiff_t n, int accumulate) {
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_mul_ps(gelu_grad(_mm256_loadu_ps(x + i)), _mm256_loadu_ps(dy + i));
        if (accumulate) g = _mm256_add_ps(_mm256_loadu_ps(dx + i), g);
        _mm256_storeu_ps(dx + i, g);
    }
    if (i < n) {
        __m256i m = ecom_tail_mask(n - i);
        __m256 g = _mm256_mul_ps(gelu_grad(_mm256_maskload_ps(x + i, m)), _mm256_maskload_ps(dy + i, m));
        if (accumulate) g = _mm256_add_ps(_mm256_maskload_ps(dx + i, m), g);
        _mm256_maskstore_ps(dx + i, m, g);
    }
}
#endif
