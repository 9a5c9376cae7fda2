// Run-time CPU feature detection for the AVX2 (and AVX-512, VNNI) kernels (cpuid + xgetbv), cached; stubs on non-x86 targets.
#include "Internal.h"

#if ECOM_X86
#include <cpuid.h>
#include <pthread.h>

static char featureText[192];
static int available, avx512Available, vnniAvailable;
static pthread_once_t detectOnce = PTHREAD_ONCE_INIT;

/// Reads the features once. AVX state must also be enabled by the OS (OSXSAVE and XCR0 bits 1-2), else the YMM
/// registers would fault even on a CPU that has them.
static int detect(void) {
    unsigned a, b, c, d;
    int fma = 0, f16c = 0, avx = 0, avx2 = 0, avx512f = 0, osYmm = 0;
    int avx512bw = 0, avx512vl = 0, avx512vnni = 0, avxvnni = 0, osZmm = 0;
    int avx512dq = 0, avx512cd = 0, avx512bf16 = 0;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        fma = (c >> 12) & 1;
        f16c = (c >> 29) & 1;
        avx = (c >> 28) & 1;
        if ((c >> 27) & 1) {  // OSXSAVE: xgetbv is usable
            unsigned lo, hi;
            __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
            osYmm = (lo & 6) == 6;
            osZmm = (lo & 0xE6) == 0xE6;  // XMM, YMM, opmask, ZMM_Hi256 and Hi16_ZMM state (XCR0 bits 1, 2, 5, 6, 7)
        }
    }
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        avx2 = (b >> 5) & 1;
        avx512f = (b >> 16) & 1;
        avx512bw = (b >> 30) & 1;
        avx512vl = (b >> 31) & 1;
        avx512dq = (b >> 17) & 1;
        avx512cd = (b >> 28) & 1;
        avx512vnni = (c >> 11) & 1;
        unsigned maxSub = a;
        if (maxSub >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d)) {
            avxvnni = (a >> 4) & 1;
            avx512bf16 = (a >> 5) & 1;
        }
    }
    featureText[0] = 0;
    char *p = featureText;
    const char *names[] = {"avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512vnni", "avxvnni",
                           "avx512dq", "avx512cd", "avx512bf16"};
    int has[] = {avx && osYmm, avx2 && osYmm, fma, f16c, avx512f && osYmm, avx512bw && osZmm, avx512vl && osZmm,
                 avx512vnni && osZmm, avxvnni && osYmm, avx512dq && osZmm, avx512cd && osZmm, avx512bf16 && osZmm};
    int base = avx && avx2 && fma && f16c && osYmm;
    avx512Available = base && avx512f && avx512bw && avx512vl && osZmm;
    vnniAvailable = (base && avxvnni ? 1 : 0) | (avx512Available && avx512vnni ? 2 : 0);
    for (int i = 0; i < 12; i++) {
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

int ecom_kernels_avx512_available(void) {
    (void)ecom_kernels_available();
    return avx512Available;
}

int ecom_kernels_vnni_available(void) {
    (void)ecom_kernels_available();
    return vnniAvailable;
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
int ecom_kernels_avx512_available(void) { return 0; }
int ecom_kernels_vnni_available(void) { return 0; }
void ecom_quantize_q8_rows(const float *x, ptrdiff_t m, ptrdiff_t ldx, ptrdiff_t k, int8_t *q, float *d, float *s) {
    __builtin_trap();
}
void ecom_quant_linear_q8(const void *w, ptrdiff_t n, ptrdiff_t k, int format, const int8_t *xq, const float *xd,
                          const float *xs, ptrdiff_t m, float *y, ptrdiff_t ldy) { __builtin_trap(); }
void ecom_quant_linear_f32(const float *x, ptrdiff_t m, ptrdiff_t ldx, const void *w, ptrdiff_t n, ptrdiff_t k,
                           int format, float *y, ptrdiff_t ldy) { __builtin_trap(); }
void ecom_dequantize_blocks_f32(int format, const void *src, ptrdiff_t blocks, float *dst) { __builtin_trap(); }

#endif
