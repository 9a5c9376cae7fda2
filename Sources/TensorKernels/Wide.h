// The width-generic kernels (clang vector extensions), compiled once per (lanes, target) by the files that include
// this header: WideAVX512.c (16 lanes for AVX-512), Wide16AVX2.c (the same 16-lane code compiled for AVX2, so that
// its logic is checked on every AVX2 CPU, not only on the AVX-512 machines that run it for real) and WideAVX2.c
// (8 lanes for AVX2: RMSNorm and SwiGLU, which have no hand-written AVX2 kernel). Semantics are those of the AVX2
// kernels in the other files (same formulas, same exp), so every path is checked against the same scalar references.
// Before including: WIDE_LANES (8 or 16), WIDE_TARGET (a target attribute string), WIDE_NAME(name) (exported names).
// With `stream`, GELU and layer norm write their outputs with non-temporal stores as the AVX2 kernels do (a head up to
// a vector-size boundary first); softmax, which rescales its output in place, writes it with ordinary stores.
#include "Internal.h"
#include <math.h>
#include <string.h>

#if ECOM_X86
#define W WIDE_LANES
#define WK __attribute__((target(WIDE_TARGET)))
#define WF static inline __attribute__((always_inline, target(WIDE_TARGET)))

typedef float wf __attribute__((ext_vector_type(WIDE_LANES)));
typedef int32_t wi __attribute__((ext_vector_type(WIDE_LANES)));
typedef uint32_t wu __attribute__((ext_vector_type(WIDE_LANES)));
typedef uint16_t wh __attribute__((ext_vector_type(WIDE_LANES)));
typedef _Float16 whf __attribute__((ext_vector_type(WIDE_LANES)));
typedef float wf8 __attribute__((ext_vector_type(8)));
typedef float wf4 __attribute__((ext_vector_type(4)));
typedef float wf2 __attribute__((ext_vector_type(2)));

WF wf ld(const float *p) { wf v; memcpy(&v, p, sizeof v); return v; }
WF void st(float *p, wf v) { memcpy(p, &v, sizeof v); }
/// `count` (< W) floats from p, the other lanes `fill`.
WF wf ldTail(const float *p, ptrdiff_t count, float fill) {
    float t[W];
    for (int i = 0; i < W; i++) t[i] = fill;
    memcpy(t, p, (size_t)count * sizeof(float));
    return ld(t);
}
/// Stores the first `count` (< W) lanes of v at p.
WF void stTail(float *p, wf v, ptrdiff_t count) {
    float t[W];
    st(t, v);
    memcpy(p, t, (size_t)count * sizeof(float));
}
/// How many floats from p (4-byte aligned) to the next vector-size boundary, at most n: the head a streaming loop
/// writes with ordinary stores before its aligned non-temporal ones.
WF ptrdiff_t headToAligned(const float *p, ptrdiff_t n) {
    ptrdiff_t h = (ptrdiff_t)(((sizeof(wf) - ((uintptr_t)p % sizeof(wf))) % sizeof(wf)) / sizeof(float));
    return h < n ? h : n;
}

/// Stores v at p: non-temporal when `stream` (p must then be vector-size aligned), else an ordinary store.
WF void stOut(float *p, wf v, int stream) {
    if (stream) __builtin_nontemporal_store(v, (wf *)p);
    else st(p, v);
}

/// Lane-wise a where m is set, else b (m: all ones or zero per lane, as comparisons give).
WF wf sel(wi m, wf a, wf b) { return (wf)(((wi)a & m) | ((wi)b & ~m)); }
/// 0, 1, ..., W - 1.
WF wi lanes(void) {
    wi v;
    for (int i = 0; i < W; i++) v[i] = i;
    return v;
}

/// Sum of the lanes in a fixed order (halves, then pairs): deterministic.
WF float hsum(wf v) {
#if WIDE_LANES == 16
    wf8 a = v.lo + v.hi;
#else
    wf8 a = v;
#endif
    wf4 b = a.lo + a.hi;
    wf2 c = b.lo + b.hi;
    return c.x + c.y;
}

/// Maximum of the lanes.
WF float hmax(wf v) {
#if WIDE_LANES == 16
    wf8 a = __builtin_elementwise_max(v.lo, v.hi);
#else
    wf8 a = v;
#endif
    wf4 b = __builtin_elementwise_max(a.lo, a.hi);
    wf2 c = __builtin_elementwise_max(b.lo, b.hi);
    return c.x > c.y ? c.x : c.y;
}

/// e^x, lane for lane the computation of ecom_exp8 in Internal.h (range reduction, minimax polynomial and the
/// two-step scaling are derived there). The clamps are comparisons so that NaN passes through them, and n is
/// converted to an integer only where it is not NaN.
WF wf vexp(wf x) {
    x = sel(x > 89.0f, (wf)89.0f, x);
    x = sel(x < -104.0f, (wf)-104.0f, x);
    wf n = __builtin_elementwise_roundeven(x * 1.44269504088896341f);
    wf r = __builtin_elementwise_fma(-n, (wf)0.693147182464599609f, x);
    r = __builtin_elementwise_fma(-n, (wf)-1.90465429995776805e-9f, r);
    wf p = (wf)1.383684576e-03f;
    p = __builtin_elementwise_fma(p, r, (wf)8.374815807e-03f);
    p = __builtin_elementwise_fma(p, r, (wf)4.166822508e-02f);
    p = __builtin_elementwise_fma(p, r, (wf)1.666641980e-01f);
    p = __builtin_elementwise_fma(p, r, (wf)4.999999106e-01f);
    p = __builtin_elementwise_fma(p, r, (wf)1.0f);
    p = __builtin_elementwise_fma(p, r, (wf)1.0f);
    wi ni = __builtin_convertvector(sel(n == n, n, (wf)0.0f), wi);
    wi n1 = ni >> 1, n2 = ni - n1;
    wf s1 = (wf)((n1 + 127) << 23), s2 = (wf)((n2 + 127) << 23);
    return p * s1 * s2;
}

WK void WIDE_NAME(exp)(const float *x, float *y, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + W <= n; i += W) st(y + i, vexp(ld(x + i)));
    if (i < n) stTail(y + i, vexp(ldTail(x + i, n - i, 0)), n - i);
}

// GELU (BLOOM's tanh approximation) as GELU.c computes it: gelu(x) = x s with s = 1 / (1 + e^(-2u)),
// u = c0 x (1 + c1 x^2); gelu'(x) = s + x s (1 - s) 2 u', u' = c0 + 3 c0 c1 x^2.
WF wf geluSigmoid(wf x) {
    wf a = x * __builtin_elementwise_fma(x * x, (wf)(-2 * 0.79788456f * 0.044715f), (wf)(-2 * 0.79788456f));
    return 1.0f / (1.0f + vexp(a));
}

WF wf geluGrad(wf x) {
    wf s = geluSigmoid(x);
    wf du = __builtin_elementwise_fma(x * x, (wf)0.1070322243f, (wf)0.79788456f);
    return __builtin_elementwise_fma((x + x) * s * (1.0f - s), du, s);
}

WK void WIDE_NAME(gelu_forward)(const float *x, float *y, ptrdiff_t n, int stream) {
    ptrdiff_t i = 0;
    if (stream && (i = headToAligned(y, n)) > 0) {
        wf v = ldTail(x, i, 0);
        stTail(y, v * geluSigmoid(v), i);
    }
    for (; i + W <= n; i += W) {
        wf v = ld(x + i);
        stOut(y + i, v * geluSigmoid(v), stream);
    }
    if (i < n) {
        wf v = ldTail(x + i, n - i, 0);
        stTail(y + i, v * geluSigmoid(v), n - i);
    }
    if (stream) _mm_sfence();
}

WK void WIDE_NAME(gelu_backward)(const float *dy, const float *x, float *dx, ptrdiff_t n, int accumulate) {
    ptrdiff_t i = 0;
    for (; i + W <= n; i += W) {
        wf g = geluGrad(ld(x + i)) * ld(dy + i);
        st(dx + i, accumulate ? ld(dx + i) + g : g);
    }
    if (i < n) {
        ptrdiff_t c = n - i;
        wf g = geluGrad(ldTail(x + i, c, 0)) * ldTail(dy + i, c, 0);
        stTail(dx + i, accumulate ? ldTail(dx + i, c, 0) + g : g, c);
    }
}

/// Sum of x[0 ..< n] in two vector accumulators (fixed order).
WF float rowSum(const float *x, ptrdiff_t n) {
    wf a0 = 0, a1 = 0;
    ptrdiff_t j = 0;
    for (; j + 2 * W <= n; j += 2 * W) { a0 += ld(x + j); a1 += ld(x + j + W); }
    for (; j + W <= n; j += W) a0 += ld(x + j);
    if (j < n) a1 += ldTail(x + j, n - j, 0);
    return hsum(a0 + a1);
}

/// Sum of (x - c)^2 over x[0 ..< n] (tail lanes filled with c, so they add 0).
WF float rowSquares(const float *x, ptrdiff_t n, float c) {
    wf a0 = 0, a1 = 0;
    ptrdiff_t j = 0;
    for (; j + 2 * W <= n; j += 2 * W) {
        wf d0 = ld(x + j) - c, d1 = ld(x + j + W) - c;
        a0 = __builtin_elementwise_fma(d0, d0, a0);
        a1 = __builtin_elementwise_fma(d1, d1, a1);
    }
    for (; j + W <= n; j += W) { wf d = ld(x + j) - c; a0 = __builtin_elementwise_fma(d, d, a0); }
    if (j < n) { wf d = ldTail(x + j, n - j, c) - c; a1 = __builtin_elementwise_fma(d, d, a1); }
    return hsum(a0 + a1);
}

// Layer norm by the two-pass formula of LayerNorm.c (mean, then squared deviations from it: no cancellation).
WK void WIDE_NAME(layernorm_forward)(const float *x, const float *gamma, const float *beta, float *y, float *mean,
                                     float *rstd, ptrdiff_t rows, ptrdiff_t cols, float eps, int stream) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        const float mu = rowSum(xr, cols) / (float)cols;
        const float rs = 1.0f / sqrtf(rowSquares(xr, cols, mu) / (float)cols + eps);
        ptrdiff_t j = 0;
        if (stream && (j = headToAligned(yr, cols)) > 0)
            stTail(yr, __builtin_elementwise_fma((ldTail(xr, j, 0) - mu) * rs, ldTail(gamma, j, 0), ldTail(beta, j, 0)), j);
        for (; j + W <= cols; j += W)
            stOut(yr + j, __builtin_elementwise_fma((ld(xr + j) - mu) * rs, ld(gamma + j), ld(beta + j)), stream);
        if (j < cols) {
            ptrdiff_t c = cols - j;
            stTail(yr + j, __builtin_elementwise_fma((ldTail(xr + j, c, 0) - mu) * rs, ldTail(gamma + j, c, 0),
                                                     ldTail(beta + j, c, 0)), c);
        }
        if (mean) mean[r] = mu;
        if (rstd) rstd[r] = rs;
    }
    if (stream) _mm_sfence();
}

// RMSNorm as transformers' LlamaRMSNorm: y = w * (x * rsqrt(mean(x^2) + eps)), the mean of squares in float.
WK void WIDE_NAME(rmsnorm_forward)(const float *x, const float *weight, float *y, float *rstd, ptrdiff_t rows,
                                   ptrdiff_t cols, float eps) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        const float inv = 1.0f / sqrtf(rowSquares(xr, cols, 0) / (float)cols + eps);
        if (rstd) rstd[r] = inv;
        ptrdiff_t j = 0;
        for (; j + W <= cols; j += W) st(yr + j, ld(weight + j) * (ld(xr + j) * inv));
        if (j < cols) {
            ptrdiff_t c = cols - j;
            stTail(yr + j, ldTail(weight + j, c, 0) * (ldTail(xr + j, c, 0) * inv), c);
        }
    }
}

// SwiGLU: y = silu(gate) * up = gate / (1 + e^-gate) * up.
WK void WIDE_NAME(swiglu_forward)(const float *gate, const float *up, float *y, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + W <= n; i += W) {
        wf g = ld(gate + i);
        st(y + i, g / (vexp(-g) + 1.0f) * ld(up + i));
    }
    if (i < n) {
        ptrdiff_t c = n - i;
        wf g = ldTail(gate + i, c, 0);
        stTail(y + i, g / (vexp(-g) + 1.0f) * ldTail(up + i, c, 0), c);
    }
}

// Cross-entropy of one row of logits (CrossEntropy.swift's formulas): m = max x, lse = m + log(sum e^(x - m)),
// returns lse - x[target]; with d, also d[j] = e^(x_j - lse) * g and d[target] -= g. d may alias x.
WK float WIDE_NAME(cross_entropy_row)(const float *x, ptrdiff_t vocab, int32_t target, float g, float *d) {
    wf m0 = -INFINITY;
    ptrdiff_t j = 0;
    for (; j + W <= vocab; j += W) m0 = __builtin_elementwise_max(m0, ld(x + j));
    if (j < vocab) m0 = __builtin_elementwise_max(m0, ldTail(x + j, vocab - j, -INFINITY));
    const float m = hmax(m0);
    wf s0 = 0;
    for (j = 0; j + W <= vocab; j += W) s0 += vexp(ld(x + j) - m);
    if (j < vocab) s0 += vexp(ldTail(x + j, vocab - j, -INFINITY) - m);  // padding lanes: exp(-inf) = 0
    const float lse = m + logf(hsum(s0));
    const float loss = lse - x[target];
    if (d) {
        for (j = 0; j + W <= vocab; j += W) st(d + j, vexp(ld(x + j) - lse) * g);
        if (j < vocab) stTail(d + j, vexp(ldTail(x + j, vocab - j, 0) - lse) * g, vocab - j);
        d[target] -= g;
    }
    return loss;
}

/// The logits scale x + bias of W columns from j; lanes at or past `visible` (counted from j) are -inf.
WF wf logits(const float *x, const float *bias, ptrdiff_t j, ptrdiff_t visible, float scale) {
    if (j + W <= visible) {
        wf v = ld(x + j) * scale;
        return bias ? v + ld(bias + j) : v;
    }
    ptrdiff_t c = visible - j;
    wf v = ldTail(x + j, c, 0) * scale;
    if (bias) v += ldTail(bias + j, c, 0);
    return sel(lanes() < (wi)(int32_t)c, v, (wf)-INFINITY);
}

// Softmax of one row with a visible prefix, in the three sweeps of Softmax.c: maximum, e = exp(z - max) stored and
// summed, scale by 1 / sum; masked keys are 0, an all-masked row is all zeros. y may alias x.
WK void WIDE_NAME(softmax_row)(const float *x, float *y, ptrdiff_t visible, ptrdiff_t cols, float scale,
                               const float *bias, int stream) {
    (void)stream;
    const ptrdiff_t n = visible < 0 ? 0 : (visible > cols ? cols : visible);
    wf m0 = -INFINITY;
    for (ptrdiff_t j = 0; j < n; j += W) m0 = __builtin_elementwise_max(m0, logits(x, bias, j, n, scale));
    const float m = n ? hmax(m0) : -INFINITY;
    if (m == -INFINITY) {
        memset(y, 0, (size_t)cols * sizeof(float));
        return;
    }
    wf s0 = 0;
    ptrdiff_t j = 0;
    for (; j + W <= n; j += W) {
        wf e = vexp(logits(x, bias, j, n, scale) - m);
        st(y + j, e);
        s0 += e;
    }
    if (j < n) {
        wf e = vexp(logits(x, bias, j, n, scale) - m);  // masked lanes: exp(-inf) = 0
        stTail(y + j, e, n - j);
        s0 += e;
    }
    const float inv = 1.0f / hsum(s0);
    for (j = 0; j + W <= n; j += W) st(y + j, ld(y + j) * inv);
    if (j < n) stTail(y + j, ldTail(y + j, n - j, 0) * inv, n - j);
    if (n < cols) memset(y + n, 0, (size_t)(cols - n) * sizeof(float));
}

/// W 16-bit values at p widened to float: IEEE half (format 0, F16C's conversion) or bfloat16 (format 1, exact).
WF wf widen(const uint16_t *p, int format) {
    wh h;
    memcpy(&h, p, sizeof h);
    return format == 0 ? __builtin_convertvector((whf)h, wf) : (wf)(__builtin_convertvector(h, wu) << 16);
}

/// `count` (< W) 16-bit values widened, the other lanes 0.
WF wf widenTail(const uint16_t *p, ptrdiff_t count, int format) {
    uint16_t t[W] = {0};
    memcpy(t, p, (size_t)count * 2);
    return widen(t, format);
}

/// float -> bfloat16 bits: (bits + 0x7FFF + lsb) >> 16 (round to nearest even), NaN kept quiet (as Half.c).
WF wh bf16Round(wf v) {
    wu b = (wu)v;
    wu rounded = (b + 0x7FFFu + ((b >> 16) & 1u)) >> 16;
    wu nan = (b >> 16) | 0x40u;
    wu isNaN = (wu)(v != v);
    return __builtin_convertvector((rounded & ~isNaN) | (nan & isNaN), wh);
}

WF wh f16Round(wf v) { return (wh)__builtin_convertvector(v, whf); }

WK void WIDE_NAME(f16_to_f32)(const uint16_t *src, float *dst, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + W <= n; i += W) st(dst + i, widen(src + i, 0));
    if (i < n) stTail(dst + i, widenTail(src + i, n - i, 0), n - i);
}

WK void WIDE_NAME(bf16_to_f32)(const uint16_t *src, float *dst, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + W <= n; i += W) st(dst + i, widen(src + i, 1));
    if (i < n) stTail(dst + i, widenTail(src + i, n - i, 1), n - i);
}

WK void WIDE_NAME(f32_to_f16)(const float *src, uint16_t *dst, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + W <= n; i += W) { wh h = f16Round(ld(src + i)); memcpy(dst + i, &h, sizeof h); }
    if (i < n) { wh h = f16Round(ldTail(src + i, n - i, 0)); memcpy(dst + i, &h, (size_t)(n - i) * 2); }
}

WK void WIDE_NAME(f32_to_bf16)(const float *src, uint16_t *dst, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + W <= n; i += W) { wh h = bf16Round(ld(src + i)); memcpy(dst + i, &h, sizeof h); }
    if (i < n) { wh h = bf16Round(ldTail(src + i, n - i, 0)); memcpy(dst + i, &h, (size_t)(n - i) * 2); }
}

// Linear layer with 16-bit weights as HalfLinear.c: four W rows at a time, each x load feeding four FMA chains, the
// zero-padded row tails widened once per block of rows; sums in a fixed order (threads split the n outputs).
WF void halfLinear(const float *x, ptrdiff_t m, ptrdiff_t ldx, const uint16_t *w, ptrdiff_t n, ptrdiff_t k,
                   ptrdiff_t ldw, const int format, const float *bias, float *y, ptrdiff_t ldy) {
    const ptrdiff_t tail = k % W, body = k - tail;
    ptrdiff_t r = 0;
    for (; r + 4 <= n; r += 4) {
        const uint16_t *w0 = w + r * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
        wf t0 = 0, t1 = 0, t2 = 0, t3 = 0;
        if (tail) {
            t0 = widenTail(w0 + body, tail, format); t1 = widenTail(w1 + body, tail, format);
            t2 = widenTail(w2 + body, tail, format); t3 = widenTail(w3 + body, tail, format);
        }
        for (ptrdiff_t i = 0; i < m; i++) {
            const float *xi = x + i * ldx;
            wf a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            for (ptrdiff_t j = 0; j < body; j += W) {
                wf xv = ld(xi + j);
                a0 = __builtin_elementwise_fma(widen(w0 + j, format), xv, a0);
                a1 = __builtin_elementwise_fma(widen(w1 + j, format), xv, a1);
                a2 = __builtin_elementwise_fma(widen(w2 + j, format), xv, a2);
                a3 = __builtin_elementwise_fma(widen(w3 + j, format), xv, a3);
            }
            if (tail) {
                wf xv = ldTail(xi + body, tail, 0);
                a0 = __builtin_elementwise_fma(t0, xv, a0);
                a1 = __builtin_elementwise_fma(t1, xv, a1);
                a2 = __builtin_elementwise_fma(t2, xv, a2);
                a3 = __builtin_elementwise_fma(t3, xv, a3);
            }
            float *yi = y + i * ldy + r;
            yi[0] = hsum(a0) + (bias ? bias[r] : 0);
            yi[1] = hsum(a1) + (bias ? bias[r + 1] : 0);
            yi[2] = hsum(a2) + (bias ? bias[r + 2] : 0);
            yi[3] = hsum(a3) + (bias ? bias[r + 3] : 0);
        }
    }
    for (; r < n; r++) {
        const uint16_t *w0 = w + r * ldw;
        wf t0 = tail ? widenTail(w0 + body, tail, format) : (wf)0;
        for (ptrdiff_t i = 0; i < m; i++) {
            const float *xi = x + i * ldx;
            wf a0 = 0;
            for (ptrdiff_t j = 0; j < body; j += W) a0 = __builtin_elementwise_fma(widen(w0 + j, format), ld(xi + j), a0);
            if (tail) a0 = __builtin_elementwise_fma(t0, ldTail(xi + body, tail, 0), a0);
            y[i * ldy + r] = hsum(a0) + (bias ? bias[r] : 0);
        }
    }
}

WK void WIDE_NAME(half_linear)(const float *x, ptrdiff_t m, ptrdiff_t ldx, const uint16_t *w, ptrdiff_t n, ptrdiff_t k,
                               ptrdiff_t ldw, int format, const float *bias, float *y, ptrdiff_t ldy) {
    if (format == 0) halfLinear(x, m, ldx, w, n, k, ldw, 0, bias, y, ldy);
    else halfLinear(x, m, ldx, w, n, k, ldw, 1, bias, y, ldy);
}

#undef W
#undef WK
#undef WF
#endif
