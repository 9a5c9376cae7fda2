// The integer (8-bit activation) path of QuantLinear.c, generic over the instruction that sums four adjacent u8 x s8
// products into int32: included by QuantLinear.c (AVX2: vpmaddubsw + vpmaddwd) and QuantLinearVNNI.c (one vpdpbusd,
// VEX-encoded AVX-VNNI or EVEX AVX512_VNNI at 256 bits). The integer sums are exact either way (the AVX2 pair never
// saturates here), so every variant gives the same bits. Before including, define:
//   Q8_INLINE      the always-inline attribute with the variant's target
//   Q8_DOT(u, s)   eight int32 sums of four adjacent products u[j] * s[j] (u unsigned, s signed bytes)
//   Q8_NAME(x)     the variant's name for helper x
//   Q8_EXPORT      the exported entry's attributes (its target) and Q8_ENTRY its name
// Needs block_bytes, half_at, unpack_q4, broadcast_from_memory and QK from QuantCommon.h.
//
// Q4 rows go eight blocks at a time (q8_group): their eight scales (and Q4_1 offsets) are gathered in one instruction
// and multiplied by the activation scales as vectors, the offset term is one vector FMA per eight blocks, and each
// block's integer dot is scaled by a broadcast from memory. Q8_0 keeps the block-at-a-time loop (q8_block), which was
// faster for it: its blocks carry no offset, and it reads twice the bytes per block.

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

/// Block b + j of a Q4 group (q8_group) against M activation rows: its integer dots, scaled, into acc[i].
Q8_INLINE void Q8_NAME(q8_group_block)(const uint8_t *g, ptrdiff_t b, int j, int bb, const int format, const int8_t *xq,
                                ptrdiff_t k, const int M, float scale[4][8], __m256 acc[4]) {
    const __m256i u = unpack_q4(g + j * bb + (format == 1 ? 4 : 2));
    for (int i = 0; i < M; i++) {
        const __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + i * k + (b + j) * QK));
        acc[i] = _mm256_fmadd_ps(broadcast_from_memory(&scale[i][j]), _mm256_cvtepi32_ps(Q8_DOT(u, xv)), acc[i]);
    }
}

/// Blocks b ..< b + count (count <= 8) of one Q4 weight row against M (1...4) quantized activation rows: the blocks'
/// integer dots into acc[a][i] (a < A), the offset term into offv[i]. Masked lanes of a short group read nothing.
Q8_INLINE void Q8_NAME(q8_group)(const uint8_t *g, ptrdiff_t b, ptrdiff_t nb, const int format, const int8_t *xq, ptrdiff_t k,
                          const float *xd, const float *xs, const int M, const int count, const int A, __m256 acc[4][4],
                          __m256 offv[4]) {
    const int bb = (int)block_bytes(format);
    const __m256i at = _mm256_setr_epi32(0, bb, 2 * bb, 3 * bb, 4 * bb, 5 * bb, 6 * bb, 7 * bb);
    const __m256i mask = ecom_tail_mask(count);
    // The first 4 bytes of each block: its f16 scale d, then (Q4_1) its f16 offset m. The shuffle gathers the d halves
    // of each 128-bit lane into its low 8 bytes and the m halves into its high 8 bytes.
    const __m256i words = count == 8 ? _mm256_i32gather_epi32((const int *)g, at, 1)
                                     : _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), (const int *)g, at, mask, 1);
    const __m256i halves = _mm256_shuffle_epi8(words, _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15,
                                                                       0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15));
    const __m256 dw = _mm256_cvtph_ps(_mm256_castsi256_si128(_mm256_permute4x64_epi64(halves, 0x08)));
    const __m256 c = format == 1 ? _mm256_cvtph_ps(_mm256_castsi256_si128(_mm256_permute4x64_epi64(halves, 0x0D)))
                                 : _mm256_mul_ps(dw, _mm256_set1_ps(-8.0f));  // the offset coefficient c dw + mw
    __attribute__((aligned(32))) float scale[4][8];
    for (int i = 0; i < M; i++) {
        const float *d = xd + i * nb + b, *s = xs + i * nb + b;
        _mm256_store_ps(scale[i], _mm256_mul_ps(dw, count == 8 ? _mm256_loadu_ps(d) : _mm256_maskload_ps(d, mask)));
        offv[i] = _mm256_fmadd_ps(c, count == 8 ? _mm256_loadu_ps(s) : _mm256_maskload_ps(s, mask), offv[i]);
    }
    // Four blocks per pass, each into its own accumulator set (modulo A), written out so that every index is a
    // constant after inlining (SwiftPM compiles C at -O2, which does not unroll a loop of eight such blocks).
    int j = 0;
    for (; j + 4 <= count; j += 4) {
        Q8_NAME(q8_group_block)(g, b, j, bb, format, xq, k, M, scale, acc[0]);
        Q8_NAME(q8_group_block)(g, b, j + 1, bb, format, xq, k, M, scale, acc[1 % A]);
        Q8_NAME(q8_group_block)(g, b, j + 2, bb, format, xq, k, M, scale, acc[2 % A]);
        Q8_NAME(q8_group_block)(g, b, j + 3, bb, format, xq, k, M, scale, acc[3 % A]);
    }
    for (; j < count; j++) Q8_NAME(q8_group_block)(g, b, j, bb, format, xq, k, M, scale, acc[0]);
}

/// One weight row against M (1...4) quantized activation rows: y[i * ldy] for i < M. Several sets of accumulators
/// (A per activation row: 4, 2, 1 for M = 1, 2, 3-4) shorten the FMA latency chains.
Q8_INLINE void Q8_NAME(q8_row)(const uint8_t *wr, ptrdiff_t nb, const int format, const int8_t *xq, ptrdiff_t k,
                        const float *xd, const float *xs, const int M, float *y, ptrdiff_t ldy) {
    const ptrdiff_t bb = block_bytes(format);
    const int A = M == 1 ? 4 : M == 2 ? 2 : 1;
    __m256 acc[4][4], offv[4];
    float off[4] = {0, 0, 0, 0};
    for (int i = 0; i < 4; i++) {
        offv[i] = _mm256_setzero_ps();
        for (int a = 0; a < 4; a++) acc[a][i] = _mm256_setzero_ps();
    }
    ptrdiff_t b = 0;
    if (format != 2) {
        for (; b + 8 <= nb; b += 8) Q8_NAME(q8_group)(wr + b * bb, b, nb, format, xq, k, xd, xs, M, 8, A, acc, offv);
        // A short tail of 4-7 blocks as one masked group; of 1-3, block by block below (cheaper than a gather).
        if (nb - b >= 4) {
            Q8_NAME(q8_group)(wr + b * bb, b, nb, format, xq, k, xd, xs, M, (int)(nb - b), 1, acc, offv);
            b = nb;
        }
    }
    for (; b + 2 <= nb; b += 2) {
        Q8_NAME(q8_block)(wr + b * bb, b, nb, format, xq, k, xd, xs, M, acc[0], off);
        Q8_NAME(q8_block)(wr + (b + 1) * bb, b + 1, nb, format, xq, k, xd, xs, M, acc[1], off);
    }
    if (b < nb) Q8_NAME(q8_block)(wr + b * bb, b, nb, format, xq, k, xd, xs, M, acc[0], off);
    for (int i = 0; i < M; i++) {
        __m256 sum = _mm256_add_ps(_mm256_add_ps(acc[0][i], acc[1][i]), _mm256_add_ps(acc[2][i], acc[3][i]));
        y[i * ldy] = ecom_hsum(_mm256_add_ps(sum, offv[i])) + off[i];
    }
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
