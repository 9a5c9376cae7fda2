// The kernel tables (one per path) and the run-time choice among them.
#include "Internal.h"

#if ECOM_X86
#define DECLARE_WIDE(P)                                                                                                \
    void P##exp(const float *, float *, ptrdiff_t);                                                                    \
    void P##gelu_forward(const float *, float *, ptrdiff_t, int);                                                      \
    void P##gelu_backward(const float *, const float *, float *, ptrdiff_t, int);                                      \
    void P##layernorm_forward(const float *, const float *, const float *, float *, float *, float *, ptrdiff_t,        \
                              ptrdiff_t, float, int);                                                                  \
    void P##softmax_row(const float *, float *, ptrdiff_t, ptrdiff_t, float, const float *, int);                      \
    void P##rmsnorm_forward(const float *, const float *, float *, float *, ptrdiff_t, ptrdiff_t, float);               \
    void P##swiglu_forward(const float *, const float *, float *, ptrdiff_t);                                          \
    void P##f16_to_f32(const uint16_t *, float *, ptrdiff_t);                                                          \
    void P##bf16_to_f32(const uint16_t *, float *, ptrdiff_t);                                                         \
    void P##f32_to_f16(const float *, uint16_t *, ptrdiff_t);                                                          \
    void P##f32_to_bf16(const float *, uint16_t *, ptrdiff_t);                                                         \
    void P##half_linear(const float *, ptrdiff_t, ptrdiff_t, const uint16_t *, ptrdiff_t, ptrdiff_t, ptrdiff_t, int,   \
                        const float *, float *, ptrdiff_t);                                                    \
    float P##cross_entropy_row(const float *, ptrdiff_t, int32_t, float, float *);

DECLARE_WIDE(ecom_avx512_)
DECLARE_WIDE(ecom_avx2x16_)
DECLARE_WIDE(ecom_avx2x8_)

#define WIDE_TABLE(P, NAME, LANES)                                                                                     \
    {NAME, LANES, P##exp, P##gelu_forward, P##gelu_backward, P##layernorm_forward, P##softmax_row, P##rmsnorm_forward,  \
     P##swiglu_forward, P##f16_to_f32, P##bf16_to_f32, P##f32_to_f16, P##f32_to_bf16, P##half_linear,                  \
     P##cross_entropy_row}

static const ecom_kernel_table avx2Table = {
    "avx2", 8, ecom_exp_f32, ecom_gelu_forward_f32, ecom_gelu_backward_f32, ecom_layernorm_forward_f32,
    ecom_softmax_row_f32, ecom_avx2x8_rmsnorm_forward, ecom_avx2x8_swiglu_forward, ecom_f16_to_f32, ecom_bf16_to_f32,
    ecom_f32_to_f16, ecom_f32_to_bf16, ecom_half_linear_f32, ecom_avx2x8_cross_entropy_row};
static const ecom_kernel_table avx512Table = WIDE_TABLE(ecom_avx512_, "avx512", 16);
static const ecom_kernel_table avx2x16Table = WIDE_TABLE(ecom_avx2x16_, "avx2-16lane", 16);

const ecom_kernel_table *ecom_kernels_table(int path) {
    if (!ecom_kernels_available()) return NULL;
    switch (path) {
    case 0: return &avx2Table;
    case 1: return ecom_kernels_avx512_available() ? &avx512Table : NULL;
    case 2: return &avx2x16Table;
    default: return NULL;
    }
}
#else
const ecom_kernel_table *ecom_kernels_table(int path) { return NULL; }
#endif
