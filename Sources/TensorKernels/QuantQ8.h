// The integer (8-bit activation) path of QuantLinear.c, generic over the instruction that sums four adjacent u8 x s8
// products into int32: included by QuantLinear.c (AVX2: vpmaddubsw + vpmaddwd) and QuantLinearVNNI.c (one vpdpbusd,
// VEX-encoded AVX-VNNI or EVEX AVX512_VNNI at 256 bits). The integer sums are exact either way (the AVX2 pair never
// saturates here), so every variant gives the same bits. Before including, define:
//   Q8_INLINE      the always-inline attribute with the variant's target
//   Q8_DOT(u, s)   eight int32 sums of four adjacent products u[j] * s[j] (u unsigned, s signed bytes)
//   Q8_NAME(x)     the variant's name for helper x
//   Q8_EXPORT      the exported entry's attributes (its target) and Q8_ENTRY its name
// Needs block_bytes, half_at and QK from QuantCommon.h.

/// Block b of one weight row against M (1...4) quantized activation rows, into acc[i] (the integer part) and off[i]
/// (the offset part) of the derivation in QuantLinear.c.
Q8_INLINE void Q8_NAME(q8_block)(const uint8_t *blk, ptrdiff_t b, ptrdiff_t nb, const int format, const int8_t *xq, ptrdiff_t k,
                          const float *xd, const float *xs, const int M, __m256 acc[4], float off[4]) {
    const float dw = half_at(blk);
    __m256i u, wv = _mm256_setzero_si256();
    float c = 0;  // the offset coefficient c dw + mw
    if (format == 2) {
        wv = _mm256_loadu_si256((const __m256i *)(blk + 2));
        u = _mm256_abs_epi8(wv);
    } else {
        u = unpack_q4(blk + (format == 1 ? 4 : 2));
        c = format == 1 ? half_at(blk + 2) : -8.0f * dw;
    }
    for (int i = 0; i < M; i++) {
        __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + i * k + b * QK));
        if (format == 2) xv = _mm256_sign_epi8(xv, wv);
        acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(dw * xd[i * nb + b]), _mm256_cvtepi32_ps(Q8_DOT(u, xv)), acc[i]);
        if (format != 2) off[i] += c * xs[i * nb + b];
    }
}

/// One weight row against M (1...4) quantized activation rows: y[i * ldy] for i < M. Even and odd blocks go to two
/// sets of accumulators, halving the latency chains of the FMA and of the scalar offset sum.
Q8_INLINE void Q8_NAME(q8_row)(const uint8_t *wr, ptrdiff_t nb, const int format, const int8_t *xq, ptrdiff_t k,
                        const float *xd, const float *xs, const int M, float *y, ptrdiff_t ldy) {
    const ptrdiff_t bb = block_bytes(format);
    __m256 acc0[4], acc1[4];
    float off0[4] = {0, 0, 0, 0}, off1[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4; i++) acc0[i] = acc1[i] = _mm256_setzero_ps();
    ptrdiff_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        Q8_NAME(q8_block)(wr + b * bb, b, nb, format, xq, k, xd, xs, M, acc0, off0);
        Q8_NAME(q8_block)(wr + (b + 1) * bb, b + 1, nb, format, xq, k, xd, xs, M, acc1, off1);
    }
    if (b < nb) Q8_NAME(q8_block)(wr + b * bb, b, nb, format, xq, k, xd, xs, M, acc0, off0);
    for (int i = 0; i < M; i++) y[i * ldy] = ecom_hsum(_mm256_add_ps(acc0[i], acc1[i])) + (off0[i] + off1[i]);
}

Q8_INLINE void Q8_NAME(q8_linear)(const uint8_t *w, ptrdiff_t n, ptrdiff_t k, const int format, const int8_t *xq,
                           const float *xd, const float *xs, ptrdiff_t m, float *y, ptrdiff_t ldy) {
    const ptrdiff_t nb = k / QK, rowBytes = nb * block_bytes(format);
    for (ptrdiff_t r = 0; r < n; r++) {
        const uint8_t *wr = w + r * rowBytes;
        ptrdiff_t i = 0;
        for (; i + 4 <= m; i += 4) Q8_NAME(q8_row)(wr, nb, format, xq + i * k, k, xd + i * nb, xs + i * nb, 4, y + i * ldy + r, ldy);
        switch (m - i) {
        case 3: Q8_NAME(q8_row)(wr, nb, format, xq + i * k, k, xd + i * nb, xs + i * nb, 3, y + i * ldy + r, ldy); break;
        case 2: Q8_NAME(q8_row)(wr, nb, format, xq + i * k, k, xd + i * nb, xs + i * nb, 2, y + i * ldy + r, ldy); break;
        case 1: Q8_NAME(q8_row)(wr, nb, format, xq + i * k, k, xd + i * nb, xs + i * nb, 1, y + i * ldy + r, ldy); break;
        default: break;
        }
    }
}

/// The exported entry (declared in EcomTensorKernels.h): the format a compile-time constant in each case, so that the
/// block loops specialise.
Q8_EXPORT void Q8_ENTRY(const void *w, ptrdiff_t n, ptrdiff_t k, int format, const int8_t *xq, const float *xd,
                        const float *xs, ptrdiff_t m, float *y, ptrdiff_t ldy) {
    const uint8_t *wb = (const uint8_t *)w;
    switch (format) {
    case 0: Q8_NAME(q8_linear)(wb, n, k, 0, xq, xd, xs, m, y, ldy); break;
    case 1: Q8_NAME(q8_linear)(wb, n, k, 1, xq, xd, xs, m, y, ldy); break;
    default: Q8_NAME(q8_linear)(wb, n, k, 2, xq, xd, xs, m, y, ldy); break;
    }
}
