// Run-time CPU feature detection for the AVX2 kernels (cpuid + xgetbv), cached; stubs on non-x86 targets.
#include "Internal.h"

#if ECOM_X86
#include <cpuid.h>
#include <pthread.h>

static char featureText[96];
static int available;
static pthread_once_t detectOnce = PTHREAD_ONCE_INIT;

/// Reads the features once. AVX state must also be enabled by the OS (OSXSAVE and XCR0 bits 1-2), else the YMM
/// registers would fault even on a CPU that has them.
static int detect(void) {
    unsigned a, b, c, d;
    int fma = 0, f16c = 0, avx = 0, avx2 = 0, avx512f = 0, osYmm = 0;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        fma = (c >> 12) & 1;
        f16c = (c >> 29) & 1;
        avx = (c >> 28) & 1;
        if ((c >> 27) & 1) {  // OSXSAVE: xgetbv is usable
            unsigned lo, hi;
            __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
            osYmm = (lo & 6) == 6;
        }
    }
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        avx2 = (b >> 5) & 1;
        avx512f = (b >> 16) & 1;
    }
    featureText[0] = 0;
    char *p = featureText;
    const char *names[] = {"avx", "avx2", "fma", "f16c", "avx512f"};
    int has[] = {avx && osYmm, avx2 && osYmm, fma, f16c, avx512f && osYmm};
    for (int i = 0; i < 5; i++) {
        if (!has[i]) continue;
        const char *s = names[i];
        if (p != featureText) *p++ = ' ';
        while (*s) *p++ = *s++;
    }
    *p = 0;
    return avx && avx2 && fma && f16c && osYmm;
}

static void detectOnceBody(void) { available = detect(); }

int ecom_kernels_available(void) {
    pthread_once(&detectOnce, detectOnceBody);
    return available;
}

const char *ecom_kernels_cpu_features(void) {
    (void)ecom_kernels_available();
    return featureText;
}

#else

int ecom_kernels_available(void) { return 0; }
const char *ecom_kernels_cpu_features(void) { return ""; }
void ecom_exp_f32(const float *x, float *y, ptrdiff_t n) { __builtin_trap(); }
void ecom_gelu_forward_f32(const float *x, float *y, ptrdiff_t n, int stream) { __builtin_trap(); }
void ecom_gelu_backward_f32(const float *dy, const float *x, float *dx, ptrdiff_t n, int accumulate) { __builtin_trap(); }
void ecom_layernorm_forward_f32(const float *x, const float *gamma, const float *beta, float *y, float *mean,
                                float *rstd, ptrdiff_t rows, ptrdiff_t cols, float eps, int stream) { __builtin_trap(); }
void ecom_softmax_row_f32(const float *x, float *y, ptrdiff_t visible, ptrdiff_t cols, float scale,
                          const float *bias, int stream) { __builtin_trap(); }
void ecom_f16_to_f32(const uint16_t *src, float *dst, ptrdiff_t n) { __builtin_trap(); }
void ecom_bf16_to_f32(const uint16_t *src, float *dst, ptrdiff_t n) { __builtin_trap(); }
void ecom_f32_to_f16(const float *src, uint16_t *dst, ptrdiff_t n) { __builtin_trap(); }
void ecom_f32_to_bf16(const float *src, uint16_t *dst, ptrdiff_t n) { __builtin_trap(); }
void ecom_half_linear_f32(const float *x, ptrdiff_t m, ptrdiff_t ldx, const uint16_t *w, ptrdiff_t n, ptrdiff_t k,
                          ptrdiff_t ldw, int format, const float *bias, float *y, ptrdiff_t ldy) { __builtin_trap(); }

#endif
