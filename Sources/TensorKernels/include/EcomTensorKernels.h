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

/// 1 when the CPU (and OS, for the ZMM and mask registers) support AVX-512 F, BW and VL on top of everything
/// ecom_kernels_available() needs, else 0. Decided once and cached.
int ecom_kernels_avx512_available(void);

/// The 8-bit dot-product instructions (vpdpbusd) the CPU has: 0 none, 1 AVX-VNNI (VEX, 256-bit), 2 AVX512_VNNI (with
/// AVX-512 VL also usable on 256-bit registers), 3 both. Decided once and cached.
int ecom_kernels_vnni_available(void);

// Block-quantized linear layers (Sources/TensorKernels/QuantLinear.c). `format`: 0 = Q4_0 (18-byte blocks), 1 = Q4_1
// (20 bytes), 2 = Q8_0 (34 bytes); 32 values per block, layouts in Sources/Tensor/BlockQuantization.swift. A weight
// matrix W [n, k] (k a multiple of 32) is n rows of k / 32 consecutive blocks (GGUF's layout), starting at w.

/// Quantizes m rows of k floats (row i at x + i * ldx; k a multiple of 32) to 8-bit blocks for
/// ecom_quant_linear_q8: per block b of row i, d[i * k/32 + b] = max|x| / 127, q[i * k + 32 b + j] =
/// round-to-nearest-even(x * (127 / max|x|)) (0 for an all-zero block), s[i * k/32 + b] = d * sum_j q. Finite x only.
void ecom_quantize_q8_rows(const float *x, ptrdiff_t m, ptrdiff_t ldx, ptrdiff_t k, int8_t *q, float *d, float *s);

/// y[i * ldy + r] = sum_j x[i, j] W[r, j] for i < m, r < n, with x given as ecom_quantize_q8_rows's output (q, d, s
/// for m rows of k), computed with exact integer block dot products scaled in float.
void ecom_quant_linear_q8(const void *w, ptrdiff_t n, ptrdiff_t k, int format, const int8_t *xq, const float *xd,
                          const float *xs, ptrdiff_t m, float *y, ptrdiff_t ldy);

/// ecom_quant_linear_q8 with AVX-VNNI's vpdpbusd (VEX) in place of vpmaddubsw + vpmaddwd: the same bits. Only where
/// ecom_kernels_vnni_available() has bit 1.
void ecom_quant_linear_q8_avxvnni(const void *w, ptrdiff_t n, ptrdiff_t k, int format, const int8_t *xq,
                                  const float *xd, const float *xs, ptrdiff_t m, float *y, ptrdiff_t ldy);

/// ecom_quant_linear_q8 with AVX512_VNNI's vpdpbusd on 256-bit registers: the same bits. Only where
/// ecom_kernels_vnni_available() has bit 2.
void ecom_quant_linear_q8_avx512vnni(const void *w, ptrdiff_t n, ptrdiff_t k, int format, const int8_t *xq,
                                     const float *xd, const float *xs, ptrdiff_t m, float *y, ptrdiff_t ldy);

/// y[i * ldy + r] = sum_j x[i * ldx + j] W[r, j] for i < m, r < n: W dequantized exactly in registers, FMA accumulation.
void ecom_quant_linear_f32(const float *x, ptrdiff_t m, ptrdiff_t ldx, const void *w, ptrdiff_t n, ptrdiff_t k,
                           int format, float *y, ptrdiff_t ldy);

/// Widens `blocks` consecutive blocks at src into 32 * blocks floats, bit for bit as BlockQuantization.dequantize.
void ecom_dequantize_blocks_f32(int format, const void *src, ptrdiff_t blocks, float *dst);

/// One implementation of the element-wise, normalisation, conversion and 16-bit linear kernels: the functions above
/// (ecom_exp_f32 ... ecom_half_linear_f32) under the same contracts, plus RMSNorm, SwiGLU and the cross-entropy row.
/// Entries are never null.
typedef struct ecom_kernel_table {
    /// "avx2", "avx512" or "avx2-16lane".
    const char *name;
    /// Floats per vector register of this implementation (8 or 16).
    int lanes;
    void (*exp)(const float *x, float *y, ptrdiff_t n);
    void (*gelu_forward)(const float *x, float *y, ptrdiff_t n, int stream);
    void (*gelu_backward)(const float *dy, const float *x, float *dx, ptrdiff_t n, int accumulate);
    void (*layernorm_forward)(const float *x, const float *gamma, const float *beta, float *y, float *mean, float *rstd,
                              ptrdiff_t rows, ptrdiff_t cols, float eps, int stream);
    void (*softmax_row)(const float *x, float *y, ptrdiff_t visible, ptrdiff_t cols, float scale, const float *bias,
                        int stream);
    /// RMSNorm over rows: y = weight * (x * rsqrt(mean(x^2) + eps)), rstd[r] = that rsqrt when rstd is non-null.
    /// y may alias x.
    void (*rmsnorm_forward)(const float *x, const float *weight, float *y, float *rstd, ptrdiff_t rows, ptrdiff_t cols,
                            float eps);
    /// y = gate / (1 + e^-gate) * up. y may alias either input.
    void (*swiglu_forward)(const float *gate, const float *up, float *y, ptrdiff_t n);
    void (*f16_to_f32)(const uint16_t *src, float *dst, ptrdiff_t n);
    void (*bf16_to_f32)(const uint16_t *src, float *dst, ptrdiff_t n);
    void (*f32_to_f16)(const float *src, uint16_t *dst, ptrdiff_t n);
    void (*f32_to_bf16)(const float *src, uint16_t *dst, ptrdiff_t n);
    void (*half_linear)(const float *x, ptrdiff_t m, ptrdiff_t ldx, const uint16_t *w, ptrdiff_t n, ptrdiff_t k,
                        ptrdiff_t ldw, int format, const float *bias, float *y, ptrdiff_t ldy);
    /// Cross-entropy of one row of `vocab` logits against `target` (in [0, vocab)): returns lse(x) - x[target] with
    /// lse(x) = max + log(sum e^(x - max)); when d is non-null also writes the scaled gradient d[j] = softmax(x)[j] * g,
    /// d[target] -= g. d may alias x.
    float (*cross_entropy_row)(const float *x, ptrdiff_t vocab, int32_t target, float g, float *d);
} ecom_kernel_table;

/// The kernels of one path: 0 = AVX2 (the hand-written kernels, RMSNorm and SwiGLU from the 8-lane generic code),
/// 1 = AVX-512 (the 16-lane generic code compiled for AVX-512 F/BW/VL/DQ), 2 = the same 16-lane code compiled for
/// AVX2 (a check of the AVX-512 path's logic on CPUs without AVX-512). NULL when this CPU cannot run the path (or on
/// non-x86 targets), or for an unknown path.
const ecom_kernel_table *ecom_kernels_table(int path);

/// The number of processors in this process's CPU affinity mask (what `taskset` or a container's cpuset allows), or
/// -1 where the platform cannot say (non-Linux). Available on every platform.
int ecom_affinity_cpus(void);

/// A chunk of a parallel loop: `task(context, chunk)`.
typedef void (*ecom_pool_task)(void *context, ptrdiff_t chunk);

/// Runs task(context, c) for every c in [0, chunks) on the calling thread and up to threads - 1 persistent workers
/// (spinning briefly between jobs, then sleeping), returning when all are done. Chunks must be independent. A call
/// made while the pool is busy (from another thread, or nested inside a chunk) runs its chunks on its own thread, in
/// order. Available on every platform (not only x86).
void ecom_pool_run(ptrdiff_t chunks, ptrdiff_t threads, ecom_pool_task task, void *context);

/// Nonzero on a thread while it runs a chunk of a job of ecom_pool_run (on a worker, or on the caller, also when a
/// busy pool leaves the caller all its chunks), where the cores are already shared out: a library with threads of its own (oneDNN's OpenMP) should use one there.
int ecom_pool_in_chunk(void);

#ifdef __cplusplus
}
#endif

#endif
