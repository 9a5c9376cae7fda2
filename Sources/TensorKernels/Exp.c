// Vector e^x over a buffer (the kernel inside softmax and GELU, exposed for its accuracy test).
#include "Internal.h"

#if ECOM_X86
ECOM_AVX2 void ecom_exp_f32(const float *x, float *y, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, ecom_exp8(_mm256_loadu_ps(x + i)));
    if (i < n) {
        __m256i m = ecom_tail_mask(n - i);
        _mm256_maskstore_ps(y + i, m, ecom_exp8(_mm256_maskload_ps(x + i, m)));
    }
}
#endif
