// Shared internals of the AVX2 kernels: the target attribute, tail masks, horizontal sums and the vector exp.
#ifndef ECOM_TENSOR_KERNELS_INTERNAL_H
#define ECOM_TENSOR_KERNELS_INTERNAL_H

#include "EcomTensorKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#define ECOM_X86 1
#include <immintrin.h>

/// Compiles one function for AVX2 + FMA + F16C whatever the package's baseline; callers check the CPU first.
#define ECOM_AVX2 __attribute__((target("avx2,fma,f16c")))
#define ECOM_INLINE static inline __attribute__((always_inline)) ECOM_AVX2

/// Lanes 0..<count set (count in 0...8): the mask of a loop tail for maskload/maskstore.
ECOM_INLINE __m256i ecom_tail_mask(ptrdiff_t count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// Sum of the 8 lanes in a fixed order (deterministic): halves, then pairs, then the last two.
ECOM_INLINE float ecom_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// Maximum of the 8 lanes.
ECOM_INLINE float ecom_hmax(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// e^x for 8 lanes.
///
/// Range reduction (Cody-Waite with FMA): x = n ln2 + r with n = round(x log2 e), so |r| <= ln2/2 (+ a rounding
/// hair) and e^x = 2^n e^r. ln2 is split as LN2_HI (ln2 rounded to float) + LN2_LO (the rest, -1.9046543e-9);
/// r = fma(-n, LN2_HI, x) is computed with a single rounding and, since x and n LN2_HI agree in their leading bits,
/// is almost exact; fma(-n, LN2_LO, r) then adds the correction, so r carries the error of n ln2 at the ulp level of r
/// rather than of x (|n| <= 150 makes n LN2_LO as large as 3e-7, many ulps of a small r).
///
/// Polynomial: p(r) = c0 + c1 r + ... + c6 r^6 is the minimax approximation of e^r in *relative* error on
/// [-ln2/2, ln2/2], from a Remez exchange on the equations p(r_i) - e^(r_i) = (-1)^i E e^(r_i) at 8 alternation
/// points (scripts/reference/exp_minimax.py). Its own error is 1.86e-9; with the coefficients rounded to float,
/// 1.7e-8. Evaluated by Horner with FMA (7 roundings of relative size <= 2^-24 each, damped by |r| < 0.35 for all but
/// the last), the measured maximum relative error over the normal range is 8.5e-8 (about 1.4 ulp); the test
/// (NativeKernelsTests) checks 1.2e-7 over every binade of |x| from 2^-30 to 88, and the under/overflow ends.
///
/// Scaling: 2^n is applied as 2^n1 * 2^n2 with n1 = n >> 1 and n2 = n - n1, two normal powers of two, so that
/// results in the subnormal range (x down to -103.97) round once, in the last multiply, instead of flushing to 0.
/// Inputs are clamped to [-104, 89] first: below, e^x rounds to 0; above, 2^n1 2^n2 p overflows to +inf, as it should.
/// NaN passes the clamps (max/min return their second operand when one is NaN) and propagates.
ECOM_INLINE __m256 ecom_exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_set1_ps(89.0f), _mm256_max_ps(_mm256_set1_ps(-104.0f), x));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693147182464599609f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-1.90465429995776805e-9f), r);
    __m256 p = _mm256_set1_ps(1.383684576e-03f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.374815807e-03f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.166822508e-02f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.666641980e-01f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.999999106e-01f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1);
    __m256i n2 = _mm256_sub_epi32(ni, n1);
    __m256i bias = _mm256_set1_epi32(127);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

/// Stores 8 lanes at p: non-temporal when `stream` (p must then be 32-byte aligned), else an ordinary store.
ECOM_INLINE void ecom_store(float *p, __m256 v, int stream) {
    if (stream) _mm256_stream_ps(p, v);
    else _mm256_storeu_ps(p, v);
}

/// How many floats from p (4-byte aligned) to the next 32-byte boundary (0...7), at most n: the masked head a
/// streaming loop handles before its aligned stores.
ECOM_INLINE ptrdiff_t ecom_head_to_aligned(const float *p, ptrdiff_t n) {
    ptrdiff_t h = (ptrdiff_t)(((32 - ((uintptr_t)p & 31)) & 31) / 4);
    return h < n ? h : n;
}

#else
#define ECOM_X86 0
#endif

#endif
