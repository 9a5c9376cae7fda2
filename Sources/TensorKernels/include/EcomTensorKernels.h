// _EcomTensorKernels: AVX2 + FMA + F16C kernels for EcomTensor (internal; only EcomTensor calls them).
//
// Every kernel here is compiled for AVX2/FMA/F16C through per-function target attributes, so the package itself keeps
// building for baseline x86-64 (no unsafe flags). Callers must check ecom_kernels_available() first (EcomTensor's
// NativeKernels does, once) and use the Swift SIMD path when it returns 0. On non-x86 targets every kernel is absent
// from the build's point of view: ecom_kernels_available() returns 0 and the other functions trap.
#ifndef ECOM_TENSOR_KERNELS_H
#define ECOM_TENSOR_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when the CPU (and OS) support AVX2, FMA and F16C, else 0. Decided once and cached.
int ecom_kernels_available(void);

/// The CPU features detected, as a short space-separated list (e.g. "avx2 fma f16c"); static storage.
const char *ecom_kernels_cpu_features(void);

/// y[i] = e^x[i] (max relative error 1e-7 on normal results, measured 8.5e-8; see the derivation in the source). y may alias x.
void ecom_exp_f32(const float *x, float *y, ptrdiff_t n);

/// GELU with BLOOM's tanh approximation: y = x * 0.5 * (1 + tanh(0.79788456 x (1 + 0.044715 x^2))). y may alias x.
/// With stream != 0, y is written with non-temporal stores (past the caches; for outputs too large to stay cached).
void ecom_gelu_forward_f32(const float *x, float *y, ptrdiff_t n, int stream);

/// GELU backward: dx = dy * gelu'(x), or dx += that when accumulate != 0. dx may alias dy.
void ecom_gelu_backward_f32(const float *dy, const float *x, float *dx, ptrdiff_t n, int accumulate);

/// Layer norm over `rows` rows of `cols` floats: y = gamma * (x - mean) * rstd + beta; mean and rstd (one per row)
/// are written when non-null. y may alias x. stream: as for GELU.
void ecom_layernorm_forward_f32(const float *x, const float *gamma, const float *beta, float *y, float *mean,
                                float *rstd, ptrdiff_t rows, ptrdiff_t cols, float eps, int stream);

/// Softmax of one row: y[j] = softmax(scale * x + bias)[j] over j < visible, y[j] = 0 for visible <= j < cols.
/// bias may be null. All-masked rows (visible == 0 or every logit -inf) give zeros. y may alias x. stream: as for
/// GELU (the final scaling sweep streams). Streaming kernels end with a store
/// fence, so their output is ordered before anything the caller writes next.
void ecom_softmax_row_f32(const float *x, float *y, ptrdiff_t visible, ptrdiff_t cols, float scale, const float *bias,
                          int stream);

/// IEEE half bits -> float (exact).
void ecom_f16_to_f32(const uint16_t *src, float *dst, ptrdiff_t n);
/// bfloat16 bits -> float (exact).
void ecom_bf16_to_f32(const uint16_t *src, float *dst, ptrdiff_t n);
/// float -> IEEE half bits, round to nearest even (overflow to infinity, subnormals kept, NaN quiet).
void ecom_f32_to_f16(const float *src, uint16_t *dst, ptrdiff_t n);
/// float -> bfloat16 bits, round to nearest even, NaN kept quiet.
void ecom_f32_to_bf16(const float *src, uint16_t *dst, ptrdiff_t n);

/// Linear layer with 16-bit weights: y[i * ldy + r] = bias[r] + sum_j x[i * ldx + j] * W[r * ldw + j] for i < m,
/// r < n, j < k. W is IEEE half (format 0) or bfloat16 (format 1), widened on the fly; bias may be null.
void ecom_half_linear_f32(const float *x, ptrdiff_t m, ptrdiff_t ldx, const uint16_t *w, ptrdiff_t n, ptrdiff_t k,
                          ptrdiff_t ldw, int format, const float *bias, float *y, ptrdiff_t ldy);

#ifdef __cplusplus
}
#endif

#endif
