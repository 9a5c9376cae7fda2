// The integer path of the quantized linear layers (QuantQ8.h) with one vpdpbusd per 32 products instead of
// vpmaddubsw + vpmaddwd: VEX AVX-VNNI (Alder Lake, Sapphire Rapids and later) and EVEX AVX512_VNNI at 256 bits (Cascade
// Lake, Ice Lake). Exact integer sums, so the same bits as the AVX2 kernel. Measured no faster than it on a Xeon
// (Docs/PERFORMANCE.md), so QuantizedMatmulKernel runs them only when asked ($dotOverride: tests, bench-quant).
#include "Internal.h"

#if ECOM_X86
#include "QuantCommon.h"

#define ECOM_AVXVNNI __attribute__((target("avx2,fma,f16c,avxvnni")))
#define ECOM_AVX512VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni")))

// AVX-VNNI (VEX).
#define Q8_INLINE static inline __attribute__((always_inline)) ECOM_AVXVNNI
#define Q8_DOT(u, s) _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), u, s)
#define Q8_NAME(x) x##_avxvnni
#define Q8_EXPORT ECOM_AVXVNNI
#define Q8_ENTRY ecom_quant_linear_q8_avxvnni
#include "QuantQ8.h"
#undef Q8_INLINE
#undef Q8_DOT
#undef Q8_NAME
#undef Q8_EXPORT
#undef Q8_ENTRY

// AVX512_VNNI on 256-bit registers (EVEX).
#define Q8_INLINE static inline __attribute__((always_inline)) ECOM_AVX512VNNI
#define Q8_DOT(u, s) _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s)
#define Q8_NAME(x) x##_avx512vnni
#define Q8_EXPORT ECOM_AVX512VNNI
#define Q8_ENTRY ecom_quant_linear_q8_avx512vnni
#include "QuantQ8.h"
#else
void ecom_quant_linear_q8_avxvnni(const void *w, ptrdiff_t n, ptrdiff_t k, int format, const int8_t *xq,
                                  const float *xd, const float *xs, ptrdiff_t m, float *y, ptrdiff_t ldy) {
    __builtin_trap();
}
void ecom_quant_linear_q8_avx512vnni(const void *w, ptrdiff_t n, ptrdiff_t k, int format, const int8_t *xq,
                                     const float *xd, const float *xs, ptrdiff_t m, float *y, ptrdiff_t ldy) {
    __builtin_trap();
}
#endif
